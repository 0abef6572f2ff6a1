import XtunChecks

/// Kernel settings every run wants: the kernel log on the console (VM only),
/// no IPv6 chatter on new interfaces unless a check turns it on, and skbs
/// freed where they are freed.
struct KernelSettings {
    static let ipv6Default = "/proc/sys/net/ipv6/conf/default/disable_ipv6"
    /// A socket that reads an skb on another CPU than the one that allocated
    /// it hands the skb back to that CPU's list, which is freed only the next
    /// time that CPU runs the receive softirq (skb_attempt_defer_free(),
    /// net/core/skbuff.c:6715-6760 in 6.1, :7237 in 6.12). On an idle guest
    /// that can be never, and the leak check would count those skbs as live:
    /// 0 frees them at once.
    static let skbDeferMax = "/proc/sys/net/core/skb_defer_max"
    /// What to put back on the host; nothing in the VM, which powers off
    /// (and whose RTNL a broken module may hold forever, so a write would hang).
    private let saved: [(path: String, value: String)]

    static func prepare(for place: Place) -> KernelSettings {
        if place == .virtualMachine { try? Sys.write("8", to: "/proc/sys/kernel/printk") }
        let wanted = [(ipv6Default, "1"), (skbDeferMax, "0")]
        let saved = place == .host ? wanted.compactMap { path, _ in Sys.read(path).map { (path, $0) } } : []
        for (path, value) in wanted { try? Sys.write(value, to: path) }
        return KernelSettings(saved: saved)
    }

    func restore() {
        for (path, value) in saved { try? Sys.write(value, to: path) }
    }
}
