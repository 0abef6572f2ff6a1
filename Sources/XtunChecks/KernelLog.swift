/// Recognises the kernel log lines that mean the kernel is unhealthy: the
/// health gate of every run. Used by the guest on /dev/kmsg and by the host
/// on the console.
public struct KernelLog: Sendable {
    /// Substrings that mark an Oops or BUG: after one the kernel may hold
    /// locks forever, so nothing that runs later can be trusted.
    public static let fatal: [String] = [
        "Oops", "BUG:", "kernel BUG at", "general protection fault", "Kernel panic",
    ]

    /// Substrings that mark a WARN, BUG, Oops, refcount or leak report.
    public static let alarms: [String] = fatal + [
        "WARNING:", "Call Trace:", "refcount_t:", "unregister_netdevice: waiting for",
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

    /// The first Oops or BUG line, if any.
    public var firstFatal: String? {
        lines.first { line in KernelLog.fatal.contains { line.contains($0) } }
    }

    /// Register dumps and other lines that say little to a reader.
    static let noise: [String] = [
        "Code:", "RSP:", "RAX:", "RDX:", "RBP:", "R10:", "R13:", "FS:", "CS:", "CR2:", "DR0:", "DR3:",
        "PKRU:", "Hardware name:", "PGD ", "#PF:", "Modules linked in:", "<TASK>", "</TASK>",
        "Kernel Offset:", "---[ end", "------------[ cut here",
    ]

    /// The lines from the first alarm on that say what happened: the alarm,
    /// the task, RIP and the call trace, without register dumps, unreliable
    /// ("?") frames or the user-space RIP (at most `limit`).
    public func alarmExcerpt(limit: Int = 30) -> [String] {
        guard let start = lines.firstIndex(where: { line in
            KernelLog.alarms.contains { line.contains($0) }
        }) else { return [] }
        let telling = lines[start...].filter { line in
            !line.trimmingPrefixSpaces.isEmpty && !line.contains("]  ? ") && !line.contains("RIP: 0033:")
                && !KernelLog.noise.contains { line.contains($0) }
        }
        return Array(telling.prefix(limit))
    }

    /// What a check that provokes the kernel on purpose makes it print:
    /// stacks (sysrq's backtraces, the dump_stack() of a failure it
    /// injected) and kmemleak's notice that a failed allocation of its own
    /// makes it scan one object whole (mm/kmemleak.c, add_scan_area()).
    public static let provoked = ["Call Trace:", "kmemleak: Cannot allocate a scan area"]

    /// The log without the `provoked` lines in `lines[window]`. A WARN,
    /// BUG, Oops, KASAN, lockdep or leak report there still counts.
    public func allowingProvoked(in window: Range<Int>) -> KernelLog {
        KernelLog(lines: lines.enumerated().filter { index, line in
            !(window.contains(index) && KernelLog.provoked.contains { line.contains($0) })
        }.map(\.element))
    }

    /// Whether a function name appears in a call trace or RIP line.
    public func traceMentions(_ function: String) -> Bool {
        lines.contains { $0.contains(" \(function)+0x") || $0.contains("RIP: 0010:\(function)+") }
    }
}

extension String {
    /// The string without leading spaces.
    var trimmingPrefixSpaces: Substring { drop { $0 == " " } }
}
