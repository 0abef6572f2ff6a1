import Foundation
import XtunChecks

/// Prints verdicts for people (aligned PASS/FAIL lines, hints) and for
/// programs (JSON).
public struct ReportStyle: Sendable {
    public var color: Bool
    public var verbose: Bool
    public var timing: Bool

    public init(color: Bool, verbose: Bool = false, timing: Bool = false) {
        self.color = color
        self.verbose = verbose
        self.timing = timing
    }

    /// Color only on a terminal, and never when NO_COLOR is set.
    public static func colorAllowed(isTerminal: Bool,
                                    environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        isTerminal && (environment["NO_COLOR"] ?? "").isEmpty
    }
}

public struct TextReport: Sendable {
    public let style: ReportStyle

    public init(style: ReportStyle) { self.style = style }

    func paint(_ text: String, _ code: String) -> String {
        style.color ? "\u{1b}[\(code)m\(text)\u{1b}[0m" : text
    }

    public func render(_ verdict: StageVerdict) -> String {
        let tag = "[\(verdict.suite.stage.slug)]"
        var lines: [String] = []
        lines.append("\(tag) \(verdict.source) on Linux \(verdict.kernel.release) (Debian \(verdict.kernel.version))")
        for result in verdict.results {
            let expectation = result.expectation
            switch result.outcome {
            case .pass(let observed):
                lines.append("\(tag) \(paint("PASS", "32"))  \(expectation.summary)"
                    + (observed.isEmpty ? "" : " — \(observed)"))
            case .fail(let expected, let got):
                let detail = expected.isEmpty ? got : "expected \(expected), got \(got)"
                let detailLines = detail.split(separator: "\n", omittingEmptySubsequences: false)
                lines.append("\(tag) \(paint("FAIL", "31"))  \(expectation.summary): \(detailLines.first ?? "")")
                lines += detailLines.dropFirst().map { "          \($0)" }
                lines.append("          hint: \(expectation.hint)")
            }
        }
        for expectation in verdict.omitted {
            lines.append("\(tag) not run here: \(expectation.summary) (\(expectation.requirement?.reason ?? ""))")
        }
        if !verdict.crashExcerpt.isEmpty {
            lines.append("\(tag) the guest stopped unexpectedly; its console ends with:")
            lines += verdict.crashExcerpt.map { "    \($0)" }
        }
        for trace in verdict.traces {
            lines.append("\(tag) trace: \(trace.title)")
            lines += trace.text.split(separator: "\n", omittingEmptySubsequences: false).map { "    \($0)" }
        }
        if let pitfall = verdict.pitfall {
            lines.append("\(tag) pitfall \(pitfall.name): \(pitfall.summary) — \(pitfall.hint)")
        }
        if style.verbose {
            lines.append("\(tag) guest console:")
            lines += verdict.console.split(separator: "\n", omittingEmptySubsequences: false).map { "    \($0)" }
        }
        let summary = "\(verdict.passed) passed, \(verdict.failed) failed"
            + (verdict.omitted.isEmpty ? "" : ", \(verdict.omitted.count) not run")
        lines.append("\(tag) \(verdict.isPass ? paint(summary, "32") : paint(summary, "31"))"
            + " (\(verdict.accelerator.rawValue.uppercased()), \(format(verdict.timings.total)) s)")
        if style.timing {
            let timings = verdict.timings
            lines.append("\(tag) time to verdict \(format(timings.total)) s: build \(format(timings.build)) s, "
                + "boot \(format(timings.boot)) s, checks \(format(timings.checks)) s"
                + (timings.guestChecks.count > 1
                    ? " (\(timings.guestChecks.count) guests at once: "
                        + timings.guestChecks.map { "\(format($0)) s" }.joined(separator: ", ") + ")" : "")
                + (verdict.moduleRebuilt ? "" : " (module build reused)"))
            let slowest = timings.slowest(5)
            if !slowest.isEmpty {
                lines.append("\(tag) slowest checks: "
                    + slowest.map { "\($0.id) \(format($0.seconds)) s" }.joined(separator: ", "))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

func format(_ seconds: Double) -> String {
    let tenths = Int(seconds * 10 + 0.5)
    return "\(tenths / 10).\(tenths % 10)"
}

/// The machine-readable form of a verdict (`--json`).
public struct VerdictRecord: Codable, Sendable {
    /// A JSON array of records, one per verdict.
    public static func json(_ verdicts: [StageVerdict]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(verdicts.map(VerdictRecord.init)), as: UTF8.self)
    }

    public struct Check: Codable, Sendable {
        public let id: String
        public let summary: String
        public let status: String
        public let observed: String?
        public let expected: String?
        public let got: String?
        public let hint: String
    }

    public let stage: String
    public let kernel: String
    public let debianVersion: String
    public let source: String
    public let pitfall: String?
    public let passed: Int
    public let failed: Int
    /// Ids of the stage's expectations this run could not check.
    public let omitted: [String]
    public let checks: [Check]
    public let timings: Timings
    public let accelerator: String

    public init(_ verdict: StageVerdict) {
        stage = verdict.suite.stage.slug
        kernel = verdict.kernel.release
        debianVersion = verdict.kernel.version
        source = verdict.source
        pitfall = verdict.pitfall?.name
        passed = verdict.passed
        failed = verdict.failed
        omitted = verdict.omitted.map(\.id)
        timings = verdict.timings
        accelerator = verdict.accelerator.rawValue
        checks = verdict.results.map { result in
            let expectation = result.expectation
            switch result.outcome {
            case .pass(let observed):
                return Check(id: expectation.id, summary: expectation.summary, status: "pass",
                             observed: observed, expected: nil, got: nil, hint: expectation.hint)
            case .fail(let expected, let got):
                return Check(id: expectation.id, summary: expectation.summary, status: "fail",
                             observed: nil, expected: expected, got: got, hint: expectation.hint)
            }
        }
    }
}
