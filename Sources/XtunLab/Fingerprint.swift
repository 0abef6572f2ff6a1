import Foundation

/// A digest of file contents and strings, to key caches on what went into
/// them rather than on dates. File contents are digested by `sha256sum`
/// (coreutils; fast on the multi-megabyte agent and busybox), the rest here.
struct Fingerprint {
    private var texts: [String] = []
    private var files: [URL] = []

    mutating func add(_ text: String) { texts.append(text) }

    /// The file's bytes (a missing file digests as missing).
    mutating func add(file: URL) { files.append(file) }

    /// Every regular file under `directory`, recursively, in a stable order
    /// (hidden files and folders skipped), with its relative path.
    mutating func add(tree directory: URL) {
        let names = (FileManager.default.subpaths(atPath: directory.path) ?? [])
            .filter { !$0.split(separator: "/").contains { $0.hasPrefix(".") } }
            .sorted()
        for name in names {
            var isDirectory: ObjCBool = false
            let url = directory.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory),
                  !isDirectory.boolValue else { continue }
            add(name)
            add(file: url)
        }
    }

    /// The digest, as 16 hex digits.
    func value() throws -> String {
        var parts = texts
        let present = files.filter { FileManager.default.fileExists(atPath: $0.path) }
        parts += files.filter { !present.contains($0) }.map { "missing \($0.path)" }
        if !present.isEmpty {
            let result = try Shell.run(["sha256sum", "--"] + present.map(\.path))
            guard result.succeeded else {
                throw LabError.command("sha256sum", result.status, result.output)
            }
            parts.append(result.output)
        }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in parts.joined(separator: "\u{0}").utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        let digits = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
