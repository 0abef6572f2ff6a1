import XtunChecks

/// Kernel settings every run wants: the kernel log on the console (VM only),
/// and no IPv6 chatter on new interfaces unless a check turns it on.
struct KernelSettings {
    static let ipv6Default = "/proc/sys/net/ipv6/conf/default/disable_ipv6"
    /// What to put back on the host; nothing in the VM, which powers off
    /// (and whose RTNL a broken module may hold forever, so a write would hang).
    private let savedIPv6: String?

    static func prepare(for place: Place) -> KernelSettings {
        if place == .virtualMachine { try? Sys.write("8", to: "/proc/sys/kernel/printk") }
        let settings = KernelSettings(savedIPv6: place == .host ? Sys.read(ipv6Default) : nil)
        try? Sys.write("1", to: ipv6Default)
        return settings
    }

    func restore() {
        if let savedIPv6 { try? Sys.write(savedIPv6, to: KernelSettings.ipv6Default) }
    }
}
