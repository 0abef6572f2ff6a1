import Glibc
import XtunChecks

/// Reads the kernel log through /dev/kmsg, from where the agent started.
struct KernelLogReader {
    private let fd: Int32

    init() {
        fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        // Only what is logged from now on: older messages are not ours.
        if fd >= 0 { lseek(fd, 0, SEEK_END) }
    }

    /// Every record not read yet, as "[   1.234567] text" lines.
    func drain() -> [String] {
        guard fd >= 0 else { return [] }
        var lines: [String] = []
        var buffer = [UInt8](repeating: 0, count: 8192)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count < 0 && errno == EPIPE { continue }  // overwritten records
            if count <= 0 { break }
            lines.append(KernelLogReader.format(String(decoding: buffer[0..<count], as: UTF8.self)))
        }
        return lines
    }

    /// "6,339,5140900,-;xtun: open\n" becomes "[    5.140900] xtun: open".
    static func format(_ record: String) -> String {
        let parts = record.split(separator: ";", maxSplits: 1)
        guard parts.count == 2 else { return record }
        let fields = parts[0].split(separator: ",")
        let message = parts[1].split(separator: "\n").first.map(String.init) ?? ""
        guard fields.count >= 3, let micros = Int(fields[2]) else { return message }
        var seconds = String(micros / 1_000_000)
        while seconds.count < 5 { seconds = " " + seconds }
        var fraction = String(micros % 1_000_000)
        while fraction.count < 6 { fraction = "0" + fraction }
        return "[\(seconds).\(fraction)] \(message)"
    }
}

/// The kernel log seen so far in this run.
final class KernelLogBook {
    private let reader = KernelLogReader()
    private(set) var lines: [String] = []

    /// Reads new records and returns them.
    @discardableResult
    func update() -> ArraySlice<String> {
        let start = lines.count
        lines += reader.drain()
        return lines[start...]
    }

    var mark: Int {
        update()
        return lines.count
    }

    func since(_ mark: Int) -> ArraySlice<String> {
        update()
        return lines[min(mark, lines.count)...]
    }
}

/// Loading and unloading xtun.ko with insmod and rmmod.
struct ModuleControl {
    let path: String
    let name = "xtun"

    var isLoaded: Bool { Sys.exists("/sys/module/\(name)") }

    func load() -> CommandResult { Command.run(["insmod", path], timeout: 15) }
    func unload() -> CommandResult { Command.run(["rmmod", name], timeout: 15) }
}

/// The interface's state in sysfs.
struct Interface {
    let name: String

    var directory: String { "/sys/class/net/\(name)" }
    var exists: Bool { Sys.exists(directory) }

    func attribute(_ name: String) -> String? { Sys.read("\(directory)/\(name)") }

    /// dev->flags as shown in sysfs.
    var flags: UInt32 {
        guard let text = attribute("flags"), text.hasPrefix("0x") else { return 0 }
        return UInt32(text.dropFirst(2), radix: 16) ?? 0
    }

    var isUp: Bool { flags & 0x1 != 0 }  // IFF_UP

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
    ]
    let values: [String: Int]

    subscript(name: String) -> Int { values[name] ?? -1 }

    /// The change in every counter since `before`, only the ones that moved: "tx_packets +3, ...".
    func delta(since before: Counters) -> [String: Int] {
        var out: [String: Int] = [:]
        for name in Counters.names where self[name] != before[name] { out[name] = self[name] - before[name] }
        return out
    }

    static func describe(_ delta: [String: Int]) -> String {
        if delta.isEmpty { return "no counter moved" }
        return names.compactMap { name in delta[name].map { "\(name) \($0 >= 0 ? "+" : "")\($0)" } }
            .joined(separator: ", ")
    }
}
