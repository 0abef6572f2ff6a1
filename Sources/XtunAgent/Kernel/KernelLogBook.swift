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

    /// Everything logged since the agent started, for the health gate.
    var all: KernelLog { KernelLog(lines: Array(since(0))) }
}
