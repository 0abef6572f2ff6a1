import Foundation
import XtunChecks

/// The host's root directory, shared read-only with the guest over 9p
/// (virtio-9p), so the guest runs Debian's own tcpdump, trace-cmd, bpftrace
/// and friends without copying them: `/xtun/debian tcpdump -n -i xtun`
/// runs the host's tcpdump in a chroot of the share.
public enum HostShare {
    /// QEMU's name for the share, which the guest mounts by.
    static let tag = "hostroot"
    /// Where the guest mounts it.
    public static let guestPath = GuestPaths.hostRoot
    /// The guest's helper that runs a program of the share.
    public static let runner = GuestPaths.debianRunner

    /// What the guest loads to mount it (Debian builds virtio-pci into
    /// 6.12, as a module into 6.1; the debug kernel has all of it built in).
    static let modules = ["virtio_pci", "9pnet_virtio", "9p"]

    static let qemuArguments = [
        // The host's root spans several filesystems (/proc, /sys, tmpfs…):
        // remap keeps their inode numbers apart.
        "-fsdev", "local,id=\(tag),path=/,security_model=none,readonly=on,multidevs=remap",
        "-device", "virtio-9p-pci,fsdev=\(tag),mount_tag=\(tag)",
    ]

    /// Loads the modules (in /xtun/kmod, in order), mounts the share and
    /// prepares it for chroot: the agent runs Debian's programs with
    /// busybox's chroot alone (`Debian` in the agent), the shell's user with
    /// the runner.
    static let mountScript = """
        for module in /xtun/kmod/*.ko; do
        \t[ -e "$module" ] || continue
        \tinsmod "$module" || echo "xtun lab: insmod $module failed"
        done
        mkdir -p \(guestPath)
        if mount -t 9p -o trans=virtio,version=9p2000.L,cache=loose,ro \(tag) \(guestPath); then
        \troot=\(guestPath)
        \t\(chrootSetup) || echo "xtun lab: cannot prepare \(guestPath) for chroot"
        else
        \techo "xtun lab: cannot mount the host's root at \(guestPath)"
        fi

        """

    /// Gives the chroot at `$root` the guest's /proc, /sys and /dev and a
    /// writable /tmp and /run (the share itself is read-only). The share
    /// shows the host's own /proc and /sys until then.
    static let chrootSetup = """
        { [ -e /sys/kernel/tracing/trace ] || mount -t tracefs tracefs /sys/kernel/tracing; } &&
        \t\tmount --rbind /proc "$root/proc" && mount --rbind /sys "$root/sys" &&
        \t\tmount --rbind /dev "$root/dev" && mount -t tmpfs tmpfs "$root/tmp" &&
        \t\tmount -t tmpfs tmpfs "$root/run"
        """

    /// `/xtun/debian PROGRAM ARGS…`: runs PROGRAM inside the share, with
    /// Debian's PATH (preparing the share first if the mount script could not).
    static let runnerScript = """
        #!/bin/sh
        # Runs a program of the host's Debian, shared read-only at \(guestPath).
        root=\(guestPath)
        # (bpftrace and trace-cmd look for tracefs at /sys/kernel/tracing.)
        if ! grep -q " $root/proc " /proc/mounts; then
        \t\(chrootSetup) || exit 125
        fi
        exec chroot "$root" /usr/bin/env PATH=\(GuestPaths.debianPath) "$@"

        """
}
