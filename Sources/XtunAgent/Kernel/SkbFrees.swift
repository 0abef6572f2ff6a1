/// tracefs, mounted where the kernel documents it.
enum Tracefs {
    static let path = "/sys/kernel/tracing"

    static func mount() throws {
        if !Sys.exists("\(path)/current_tracer") {
            try Command.must(["mount", "-t", "tracefs", "tracefs", path])
        }
    }

    static func write(_ text: String, _ file: String, truncating: Bool = false) throws {
        try Sys.write(text, to: "\(path)/\(file)", truncating: truncating)
    }
}

/// The kernel's own account of the skbs it frees: the `skb:kfree_skb`
/// tracepoint (a drop, with its reason) and `skb:consume_skb` (a normal
/// end), each recorded with the stack that freed the skb (tracefs's
/// `stacktrace` option). Both tracepoints and the option exist on 6.1 and
/// 6.12; `kfree_skb` carries the reason on both (include/trace/events/skb.h).
struct SkbFree: CustomStringConvertible {
    enum Kind: String { case drop = "kfree_skb", consume = "consume_skb" }
    let kind: Kind
    /// The drop reason without its prefix: `NEIGH_FAILED`; nil for a consume.
    let reason: String?
    /// Function names, innermost first, without offsets or gcc's clone
    /// suffixes (`.constprop.0`, `.isra.0`): `consume_skb`, `arp_process`, ...
    let stack: [String]

    /// The functions that free skbs and so never say why; the first frame after them is where it ended.
    static let freeingFunctions: Set<String> = [
        "consume_skb", "kfree_skb", "kfree_skb_reason", "__kfree_skb", "kfree_skb_list_reason",
        "sk_skb_reason_drop", "napi_consume_skb", "dev_kfree_skb_any_reason", "__dev_kfree_skb_any",
        "kfree_skb_partial", "skb_release_data",
    ]

    /// The function that freed it: the first frame that is neither the
    /// tracepoint's own (`trace_event_raw_event_consume_skb`) nor a freeing function.
    var place: String {
        stack.first { !$0.hasPrefix("trace_event_") && !$0.hasPrefix("__traceiter_")
            && !SkbFree.freeingFunctions.contains($0) } ?? "?"
    }

    /// Whether the stack holds the core of the receive path: the frame
    /// arrived, through the backlog (`process_backlog`) or not.
    var isReceived: Bool { stack.contains("__netif_receive_skb_one_core") || stack.contains("process_backlog") }

    /// The stack from `place` down to where reception began (the receive
    /// softirq, or the call that received the frame), for reports.
    var path: String {
        let start = stack.firstIndex(of: place) ?? 0
        let end = stack.firstIndex { ["net_rx_action", "netif_receive_skb"].contains($0) } ?? stack.count - 1
        return stack[start...max(start, min(end, stack.count - 1))].joined(separator: " < ")
    }

    func called(from function: String) -> Bool { stack.contains(function) }

    var description: String {
        "\(kind.rawValue) in \(place)" + (reason.map { " (\($0))" } ?? "")
    }

    /// Records every skb freed while `body` runs, on every CPU.
    static func record(during body: () throws -> Void) throws -> [SkbFree] {
        try Tracefs.mount()
        try Tracefs.write("0", "tracing_on")
        try Tracefs.write("nop", "current_tracer")
        try Tracefs.write("", "trace", truncating: true)
        try Tracefs.write("1", "options/stacktrace")
        defer {
            try? Tracefs.write("0", "tracing_on")
            try? Tracefs.write("0", "events/skb/kfree_skb/enable")
            try? Tracefs.write("0", "events/skb/consume_skb/enable")
            try? Tracefs.write("0", "options/stacktrace")
            try? Tracefs.write("", "trace", truncating: true)
        }
        try Tracefs.write("1", "events/skb/kfree_skb/enable")
        try Tracefs.write("1", "events/skb/consume_skb/enable")
        try Tracefs.write("1", "tracing_on")
        try body()
        try Tracefs.write("0", "tracing_on")
        return parse(Sys.read("\(Tracefs.path)/trace") ?? "")
    }

    /// Events of the `trace` file, each followed by its `<stack trace>` and ` => frame` lines.
    static func parse(_ trace: String) -> [SkbFree] {
        var frees: [SkbFree] = []
        var current: (kind: Kind, reason: String?)?
        var stack: [String] = []
        func flush() {
            if let current { frees.append(SkbFree(kind: current.kind, reason: current.reason, stack: stack)) }
            current = nil
            stack = []
        }
        for line in trace.split(separator: "\n") {
            if line.hasPrefix("#") { continue }
            if line.hasPrefix(" => ") {
                // "arp_process.constprop.0+0x301/0x7c0": gcc's clone suffixes go too.
                let frame = line.dropFirst(4).prefix { $0 != "+" && $0 != " " && $0 != "." }
                stack.append(String(frame))
                continue
            }
            if line.contains("<stack trace>") { continue }
            flush()
            if line.contains(": kfree_skb: ") {
                let reason = line.firstRange(of: "reason: ").map { String(line[$0.upperBound...]) }
                current = (.drop, reason)
            } else if line.contains(": consume_skb: ") {
                current = (.consume, nil)
            }
        }
        flush()
        return frees
    }
}
