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
            lines += KernelLogReader.format(String(decoding: buffer[0..<count], as: UTF8.self))
        }
        return lines
    }

    /// "6,339,5140900,-;xtun: open\n" becomes ["[    5.140900] xtun: open"];
    /// a record /dev/kmsg escaped (`\x0a` for each newline in it) becomes
    /// one line per line, each with the record's time.
    static func format(_ record: String) -> [String] {
        let parts = record.split(separator: ";", maxSplits: 1)
        guard parts.count == 2 else { return [record] }
        let fields = parts[0].split(separator: ",")
        let message = unescape(parts[1].split(separator: "\n").first.map(String.init) ?? "")
        let texts = message.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard fields.count >= 3, let micros = Int(fields[2]) else { return texts }
        var seconds = String(micros / 1_000_000)
        while seconds.count < 5 { seconds = " " + seconds }
        var fraction = String(micros % 1_000_000)
        while fraction.count < 6 { fraction = "0" + fraction }
        return texts.map { "[\(seconds).\(fraction)] \($0)" }
    }

    /// Undoes /dev/kmsg's `\xNN` escapes.
    static func unescape(_ text: String) -> String {
        guard text.contains("\\x") else { return text }
        var bytes: [UInt8] = []
        let utf8 = Array(text.utf8)
        var index = 0
        while index < utf8.count {
            if utf8[index] == UInt8(ascii: "\\"), index + 3 < utf8.count, utf8[index + 1] == UInt8(ascii: "x"),
               let byte = UInt8(String(decoding: utf8[(index + 2)...(index + 3)], as: UTF8.self), radix: 16) {
                bytes.append(byte)
                index += 4
            } else {
                bytes.append(utf8[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
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
