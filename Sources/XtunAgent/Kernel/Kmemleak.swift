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

    /// Scans memory twice; returns each report ("unreferenced object 0x… (size 128): …
    /// backtrace: …"), empty when nothing leaked. Twice, because a scan
    /// reports only objects whose contents did not change since the scan
    /// before (their checksum; mm/kmemleak.c:1652-1675 in 6.1), and an
    /// object's first scan always sees a change: kmemleak's own thread first
    /// scans 60 s after boot and then every 10 minutes.
    static func scan() -> [String] {
        try? Sys.write("scan", to: path)
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
