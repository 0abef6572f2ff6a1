/// The names the driver gives its module, its interface and its device
/// (`XTUN_IFNAME` in driver/xtun.h, and the module's file name).
public enum DriverNames {
    /// `rmmod xtun`, `/sys/module/xtun`.
    public static let module = "xtun"
    /// The net_device: `/sys/class/net/xtun`.
    public static let interface = "xtun"
    /// The misc device: devtmpfs creates it from the misc device's name.
    public static let characterDevice = "/dev/xtun"
}

/// Paths in the lab's guest that host and agent agree on.
public enum GuestPaths {
    /// Runs a program of the host's Debian, shared read-only over 9p when
    /// the run asks for it (`HostShare`): `/xtun/debian tcpdump -n -i xtun`.
    public static let debianRunner = "/xtun/debian"
    /// Where the guest mounts the host's root; its /tmp, writable, is the
    /// runner's /tmp.
    public static let hostRoot = "/host"
    /// The PATH programs run with there.
    public static let debianPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
}
