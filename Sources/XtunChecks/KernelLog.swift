/// Recognises the kernel log lines that mean the kernel is unhealthy: the
/// health gate of every run. Used by the guest on /dev/kmsg and by the host
/// on the console.
public struct KernelLog: Sendable {
    /// Substrings that mark a WARN, BUG, Oops, refcount or leak report.
    public static let alarms: [String] = [
        "WARNING:", "BUG:", "Oops", "kernel BUG at", "general protection fault",
        "Kernel panic", "Call Trace:", "refcount_t:", "unregister_netdevice: waiting for",
        "kmemleak:", "KASAN:", "UBSAN:", "list_add corruption", "list_del corruption",
        "INFO: task", "rcu_sched detected stalls", "soft lockup", "hard LOCKUP",
        "------------[ cut here ]------------",
    ]

    public let lines: [String]

    public init(_ text: String) {
        lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            String($0.hasSuffix("\r") ? $0.dropLast() : $0)
        }
    }

    public init(lines: [String]) { self.lines = lines }

    /// The first alarming line, if any.
    public var firstAlarm: String? {
        lines.first { line in KernelLog.alarms.contains { line.contains($0) } }
    }

    /// Lines from the first alarm on (at most `limit`), for a report.
    public func alarmExcerpt(limit: Int = 30) -> [String] {
        guard let start = lines.firstIndex(where: { line in
            KernelLog.alarms.contains { line.contains($0) }
        }) else { return [] }
        return Array(lines[start...].prefix(limit))
    }

    /// Whether a function name appears in a call trace or RIP line.
    public func traceMentions(_ function: String) -> Bool {
        lines.contains { $0.contains(" \(function)+0x") || $0.contains("RIP: 0010:\(function)+") }
    }
}
