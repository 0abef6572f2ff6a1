import CLinux
import Glibc
import XtunPackets

/// An interface's state in sysfs.
struct Interface {
    let name: String

    /// `addr_assign_type` of a random address: NET_ADDR_RANDOM in include/uapi/linux/netdevice.h
    /// (a header that clashes with glibc's net/if.h, so not imported).
    static let randomAddress = "1"

    var directory: String { "/sys/class/net/\(name)" }
    var exists: Bool { Sys.exists(directory) }

    func attribute(_ name: String) -> String? { Sys.read("\(directory)/\(name)") }

    /// dev->flags as shown in sysfs.
    var flags: UInt32 {
        guard let text = attribute("flags"), text.hasPrefix("0x") else { return 0 }
        return UInt32(text.dropFirst(2), radix: 16) ?? 0
    }

    /// The flags as sysfs prints them, for reports.
    var flagsText: String { attribute("flags") ?? "?" }

    var isUp: Bool { flags & UInt32(IFF_UP) != 0 }

    var index: Int32? { attribute("ifindex").flatMap { Int32($0) } }

    var mac: MACAddress? { attribute("address").flatMap(MACAddress.init) }

    func statistic(_ counter: String) -> Int {
        Int(attribute("statistics/\(counter)") ?? "") ?? -1
    }

    /// A snapshot of the counters that the checks compare.
    var counters: Counters {
        Counters(values: Dictionary(uniqueKeysWithValues: Counters.names.map { ($0, statistic($0)) }))
    }
}

/// Interface statistics at one moment.
struct Counters {
    static let names = [
        "tx_packets", "tx_bytes", "tx_dropped", "tx_errors",
        "rx_packets", "rx_bytes", "rx_dropped", "rx_errors", "rx_length_errors", "rx_frame_errors",
        "multicast",
    ]
    let values: [String: Int]

    subscript(name: String) -> Int { values[name] ?? -1 }

    /// The change in every counter since `before`, only the ones that moved.
    func delta(since before: Counters) -> [String: Int] {
        var out: [String: Int] = [:]
        for name in Counters.names where self[name] != before[name] { out[name] = self[name] - before[name] }
        return out
    }

    /// "tx_packets +3, tx_bytes +126", or "no counter moved".
    static func describe(_ delta: [String: Int]) -> String {
        if delta.isEmpty { return "no counter moved" }
        return names.compactMap { name in delta[name].map { "\(name) \($0 >= 0 ? "+" : "")\($0)" } }
            .joined(separator: ", ")
    }
}
