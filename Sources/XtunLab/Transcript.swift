import Foundation

/// Replaces what differs from run to run in a check-step transcript (times,
/// random MAC addresses, kernel addresses, PIDs, counts of log lines) with
/// placeholders, so two runs that behaved the same compare equal.
public struct TranscriptNormalizer: Sendable {
    public init() {}

    static let rules: [(pattern: String, replacement: String)] = [
        (#"\[ *\d+\.\d+\]"#, "[T]"),
        (#"\b([0-9a-f]{2}:){5}[0-9a-f]{2}\b"#, "MAC"),
        (#"\b6\.\d+\.\d+-\d+-amd64\b|\b6\.\d+\.\d+\+deb\d+-amd64\b"#, "RELEASE"),
        (#"Debian 6\.\d+\.\d+-[\w.~+]+"#, "Debian VERSION"),
        (#"\+0x[0-9a-f]+/0x[0-9a-f]+"#, "+OFF"),
        (#"0x[0-9a-f]{9,}"#, "0xADDR"),
        (#"\b[0-9a-f]{16}\b"#, "HEX64"),
        (#"ifindex \d+"#, "ifindex N"),
        (#"(PID|CPU): \d+"#, "$1: N"),
        (#"char 10:\d+"#, "char 10:N"),
        (#"\d+ kernel log lines"#, "N kernel log lines"),
        (#"\d+(\.\d+)? ms\b"#, "N ms"),
        (#"\d+\.\d+ s\b"#, "T s"),
        (#"\((TCG|KVM|HOST), T s\)"#, "(ACCEL, T s)"),
    ]

    /// The normalised text; `macBytes` are MAC addresses whose hex-dump form
    /// ("6e c6 83 5d 1c 0d") is replaced too.
    public func normalize(_ text: String) -> String {
        var out = text
        // Hex dumps of random MAC addresses: take them from the text itself.
        for mac in Self.macs(in: text) {
            out = out.replacingOccurrences(of: mac.replacingOccurrences(of: ":", with: " "), with: "MAC-BYTES")
        }
        for rule in Self.rules {
            out = out.replacingOccurrences(of: rule.pattern, with: rule.replacement, options: .regularExpression)
        }
        return out.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.replacingOccurrences(of: #"\s+$"#, with: "", options: .regularExpression) }
            .joined(separator: "\n")
            .trimmingCharacters(in: .newlines)
    }

    /// xtun's random MAC addresses as reported (`mac-valid` lines).
    static func macs(in text: String) -> [String] {
        let pattern = try! NSRegularExpression(pattern: #"MAC address — (([0-9a-f]{2}:){5}[0-9a-f]{2})"#)
        let range = NSRange(text.startIndex..., in: text)
        return pattern.matches(in: text, range: range).compactMap { match in
            Range(match.range(at: 1), in: text).map { String(text[$0]) }
        }
    }
}

/// A transcript in the book: `<!-- transcript: check-step … -->` followed
/// by a fenced block holding what that command printed.
public struct BookTranscript: Sendable, Equatable {
    public let chapter: String
    public let line: Int
    /// The command as written, e.g. `check-step 2 --pitfall leak-skb`.
    public let command: String
    public let text: String

    static let marker = "<!-- transcript: "

    /// Every transcript in the markdown files of `book`.
    public static func all(in book: URL) throws -> [BookTranscript] {
        let names = try FileManager.default.contentsOfDirectory(atPath: book.path).filter { $0.hasSuffix(".md") }.sorted()
        return try names.flatMap { name in
            try parse(String(contentsOf: book.appendingPathComponent(name), encoding: .utf8), chapter: name)
        }
    }

    public static func parse(_ markdown: String, chapter: String) -> [BookTranscript] {
        let lines = markdown.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var found: [BookTranscript] = []
        var index = 0
        while index < lines.count {
            let line = lines[index]
            guard line.hasPrefix(marker), line.hasSuffix(" -->") else { index += 1; continue }
            let command = String(line.dropFirst(marker.count).dropLast(4))
            var body: [String] = []
            var cursor = index + 1
            if cursor < lines.count, lines[cursor].hasPrefix("```") {
                cursor += 1
                while cursor < lines.count, !lines[cursor].hasPrefix("```") {
                    body.append(lines[cursor])
                    cursor += 1
                }
            }
            found.append(BookTranscript(chapter: chapter, line: index + 1, command: command,
                                        text: body.joined(separator: "\n")))
            index = cursor + 1
        }
        return found
    }

    /// The output lines of the transcript, without the `$ swift run …` line.
    public var output: String {
        text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("$ ") }.joined(separator: "\n")
    }
}
