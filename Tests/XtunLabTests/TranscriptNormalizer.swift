// Test support, not product code: the book's transcripts and the golden
// files are compared after this normalisation.
import Foundation

/// Replaces what differs from run to run in a check-step transcript (times,
/// random MAC addresses, kernel addresses, PIDs, counts of log lines) with
/// placeholders, so two runs that behaved the same compare equal.
struct TranscriptNormalizer: Sendable {
    init() {}

    static let rules: [(pattern: String, replacement: String)] = [
        (#"\[ *\d+\.\d+\]"#, "[T]"),
        // The fuzzer's seed (the clock) and what its random calls returned
        // (before HEX64: a seed may have 16 digits).
        (#"calls \(seed \d+\): .*?; no fz device left"#, "calls (seed N): COUNTS; no fz device left"),
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
        // Which IPv6 work item sends the first frame (and oopses in stage 01)
        // depends on timing: DAD's or MLD's.
        (#"Workqueue: [^ ;]+ [^ ;]+"#, "Workqueue: WQ WORK"),
        // The stack's own skbs in flight at the baseline differ by one or two.
        (#"\d+ more live skbs"#, "N more live skbs"),
        // How TCP cut 1 MiB into packets, and how many ACKs it sent back.
        (#"forwarded \d+ packets A→B and \d+ B→A"#, "forwarded N packets A→B and N B→A"),
        // How often each racing thread won.
        (#"(rc0-rc2 for T s): .*?; module loaded, \d+ persistent"#, "$1: COUNTS; module loaded, N persistent"),
        // Lockdep names the task that tripped it: which one depends on timing.
        (#"\S+/\d+(/\d+)? just changed the state"#, "TASK just changed the state"),
        // The fault-injection walk: how many allocations init makes, and how
        // each failure ended, depends on what the kernel's caches hold.
        (#"allocations \d+\.\.\.\d+ of insmod .*"#, "allocations N...M of insmod (counts of this walk)"),
        // Lockdep words an irq-unsafe lock one of two ways, by which half of
        // the problem it saw first; the report below its header follows suit.
        (#"WARNING: (possible irq lock inversion dependency detected|HARDIRQ-safe -> HARDIRQ-unsafe lock order detected)(\n {10}\[T\][^\n]*)*"#,
         "WARNING: LOCKDEP IRQ-UNSAFE LOCK REPORT"),
    ]

    /// The normalised text; `macBytes` are MAC addresses whose hex-dump form
    /// ("6e c6 83 5d 1c 0d") is replaced too.
    func normalize(_ text: String) -> String {
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
