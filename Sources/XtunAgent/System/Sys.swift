import Glibc

/// Files, time and sleeping: the small system wrappers every part uses.
enum Sys {
    /// File contents with trailing whitespace removed, or nil.
    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = Glibc.read(fd, &buffer, buffer.count)
            if count <= 0 { break }
            data += buffer[0..<count]
        }
        var text = String(decoding: data, as: UTF8.self)
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return text
    }

    /// Writes `text` to a file; `truncating` empties it first (tracefs
    /// files such as `trace` and `set_ftrace_filter` clear only so).
    static func write(_ text: String, to path: String, truncating: Bool = false) throws {
        let fd = open(path, O_WRONLY | O_CLOEXEC | (truncating ? O_TRUNC : 0))
        guard fd >= 0 else {
            throw Failure(expected: "to write \(path)", got: "open: \(Errno.current)")
        }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let written = Glibc.write(fd, bytes, bytes.count)
        let error = Errno.current
        guard written == bytes.count else {
            throw Failure(expected: "to write \(text) to \(path)", got: written < 0 ? "\(error)" : "\(written) bytes")
        }
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// A file's bytes, or nil if it cannot be read.
    static func readBytes(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = Glibc.read(fd, &buffer, buffer.count)
            if count < 0 { return nil }
            if count == 0 { return bytes }
            bytes += buffer[0..<count]
        }
    }

    /// Creates (or empties) a file and writes `bytes` to it.
    static func writeBytes(_ bytes: [UInt8], to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Failure(expected: "to create \(path)", got: "\(Errno.current)") }
        defer { close(fd) }
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBufferPointer { Glibc.write(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { throw Failure(expected: "to write \(path)", got: "\(Errno.current)") }
            offset += count
        }
    }

    /// The running kernel's release, as `uname -r` prints it: `6.1.0-57-amd64`.
    static var release: String {
        var names = utsname()
        uname(&names)
        return withUnsafeBytes(of: names.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    /// The names in a directory (without . and ..), or nil if it cannot be read.
    static func list(_ path: String) -> [String]? {
        guard let directory = opendir(path) else { return nil }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    static func sleep(seconds: Double) {
        guard seconds > 0 else { return }
        let nanoseconds = Int(seconds * 1e9)
        var request = timespec(tv_sec: nanoseconds / 1_000_000_000, tv_nsec: nanoseconds % 1_000_000_000)
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }

    static func sleep(milliseconds: Int) { sleep(seconds: Double(milliseconds) / 1000) }

    /// Seconds on the monotonic clock.
    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    static func uptime() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_BOOTTIME, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// Waits until `condition` holds or `seconds` pass; returns whether it held.
    static func wait(seconds: Double, every milliseconds: Int = 20, until condition: () -> Bool) -> Bool {
        let deadline = now() + seconds
        while true {
            if condition() { return true }
            if now() > deadline { return false }
            sleep(milliseconds: milliseconds)
        }
    }
}

/// "60 s", "0.5 s": a duration for a report.
func seconds(_ value: Double) -> String {
    value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
}
