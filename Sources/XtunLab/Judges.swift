import XtunChecks

/// What a host judge decides from: the module build and, if it booted, the run.
public struct Evidence: Sendable {
    public let build: Result<BuiltModule, BuildFailure>
    public let run: GuestRun?
}

/// The host's part of an expectation whose evaluator is `.build` or
/// `.console` (the agent's part is a `GuestCheck`). Registered by stage,
/// like the agent's checks; a test proves every such expectation of a
/// written stage has exactly one.
public struct HostJudge: Sendable {
    public let expectation: Expectation
    let decide: @Sendable (Evidence) -> Outcome

    init(_ expectation: Expectation, decide: @escaping @Sendable (Evidence) -> Outcome) {
        self.expectation = expectation
        self.decide = decide
    }
}

public struct HostJudgeRegistry: Sendable {
    public let byStage: [(stage: Stage, judges: [HostJudge])]

    public static let lab = HostJudgeRegistry(byStage: [
        (.stage01, [
            HostJudge(.buildsClean) { buildOutcome($0.build) },
            HostJudge(.transmitWithoutXmitCrashes) { crashOutcome($0) },
        ]),
    ])

    public var all: [HostJudge] { byStage.flatMap(\.judges) }

    public func judges(for expectation: Expectation) -> [HostJudge] {
        all.filter { $0.expectation == expectation }
    }

    // MARK: Stage 01

    static func buildOutcome(_ build: Result<BuiltModule, BuildFailure>) -> Outcome {
        switch build {
        case .success(let module) where module.warnings.isEmpty:
            return .pass("0 warnings")
        case .success(let module):
            return .fail(expected: "no warnings",
                         got: "\(module.warnings.count) warnings:\n" + module.warnings.prefix(8).joined(separator: "\n"))
        case .failure(let failure):
            return .fail(expected: "a module", got: "the build failed:\n"
                         + failure.errors.prefix(8).joined(separator: "\n"))
        }
    }

    /// The stage 01 finale: after the agent announced it, the console must
    /// show an oops whose call trace has dev_hard_start_xmit calling address 0.
    static func crashOutcome(_ evidence: Evidence) -> Outcome {
        let id = Expectation.transmitWithoutXmitCrashes.id
        if let failure = evidence.run?.reportedFailure(id) { return failure }
        guard let run = evidence.run, run.announcedCrash == id else {
            return .fail(expected: "", got: VerdictAssembler.missingReason(build: evidence.build, run: evidence.run))
        }
        let log = run.consoleLog
        let bug = log.lines.first { $0.contains("BUG: kernel NULL pointer dereference") }
        guard let bug, log.traceMentions("dev_hard_start_xmit") else {
            let seen = log.firstAlarm.map { "instead: \(strip($0))" } ?? "no oops; the guest kept running"
            return .fail(expected: "an oops: dev_hard_start_xmit calling the NULL .ndo_start_xmit", got: seen)
        }
        let context = log.lines.first { $0.contains("Workqueue:") }.map { strip($0) }
            ?? log.lines.first { $0.contains("Comm:") }.map { strip($0) } ?? ""
        let ending = log.lines.first { $0.contains("Kernel panic") }.map { strip($0) } ?? "no panic"
        return .pass([strip(bug), "RIP 0x0 called from dev_hard_start_xmit", context, ending]
            .filter { !$0.isEmpty }.joined(separator: "; "))
    }
}
