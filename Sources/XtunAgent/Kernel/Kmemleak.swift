/// The kernel's memory leak detector (CONFIG_DEBUG_KMEMLEAK, the debug
/// kernel's): it scans memory for pointers to every allocated object and
/// reports those nothing points to any more, with their allocation's backtrace.
enum Kmemleak {
    static let path = "/sys/kernel/debug/kmemleak"

    /// Objects younger than this are never reported (MSECS_MIN_AGE in mm/kmemleak.c).
    static let minimumAge = 5.0

    static var isAvailable: Bool { Sys.exists(path) }

    /// Forgets what was unreferenced until now: the run reports only its own leaks.
    static func clear() { try? Sys.write("clear", to: path) }

    /// Scans memory now; returns each report ("unreferenced object 0x… (size 128): …
    /// backtrace: …"), empty when nothing leaked.
    static func scan() -> [String] {
        try? Sys.write("scan", to: path)
        guard let text = Sys.read(path) else { return [] }
        return reports(in: text)
    }

    /// The reports in the kmemleak file's text, one string each.
    static func reports(in text: String) -> [String] {
        var reports: [[Substring]] = []
        for line in text.split(separator: "\n") {
            if line.hasPrefix("unreferenced object") { reports.append([line]) }
            else if !reports.isEmpty { reports[reports.count - 1].append(line) }
        }
        return reports.map { $0.joined(separator: "\n") }
    }
}
