import Foundation
import XtunChecks

/// How long each part of a check took, in seconds.
public struct Timings: Sendable, Codable, Equatable {
    /// Provisioning, module and agent builds, initramfs.
    public var build: Double = 0
    /// QEMU start until the agent said READY.
    public var boot: Double = 0
    /// READY until the guest powered off.
    public var checks: Double = 0
    public var total: Double = 0
    /// Each guest's `checks` when several ran at once (`Suite.guests`).
    public var guestChecks: [Double] = []
    /// Each guest check's share of `checks`: the time from the agent's
    /// previous message to its result, in the order they ran.
    public var perCheck: [CheckTime] = []

    /// The `count` checks that took longest, longest first.
    public func slowest(_ count: Int) -> [CheckTime] {
        Array(perCheck.sorted { $0.seconds > $1.seconds }.prefix(count))
    }
}

/// How long one check took in the guest.
public struct CheckTime: Sendable, Codable, Equatable {
    public let id: String
    public let seconds: Double
}

/// The outcome of checking one stage on one kernel.
/// One block of what `--trace` captured in the guest.
public struct GuestTrace: Sendable, Equatable {
    public let title: String
    public let text: String
}

public struct StageVerdict: Sendable {
    public let suite: Suite
    public let kernel: ProvisionedKernel
    public let source: String
    public let pitfall: Pitfall?
    public let results: [CheckResult]
    /// Expectations of the stage this run could not check (`--host` has no console).
    public let omitted: [Expectation]
    /// Console lines worth showing when the guest died unexpectedly.
    public let crashExcerpt: [String]
    public let console: String
    public var timings: Timings
    public let accelerator: Accelerator
    public let moduleRebuilt: Bool
    /// What `--trace` captured.
    public var traces: [GuestTrace] = []

    public var passed: Int { results.filter { $0.outcome.isPass }.count }
    public var failed: Int { results.filter { $0.outcome.isFail }.count }
    public var isPass: Bool { failed == 0 && !results.isEmpty }

    public func result(_ expectation: Expectation) -> CheckResult? {
        results.first { $0.expectation == expectation }
    }
}

/// Turns a build and a boot into one result per expectation, in suite order:
/// a guest expectation's result is what the agent reported, a build or
/// console expectation's is its host judge's. Anything missing is a failure
/// that says why.
public struct VerdictAssembler: Sendable {
    public let suite: Suite
    public var judges = HostJudgeRegistry.lab

    public init(suite: Suite) { self.suite = suite }

    public func results(build: Result<BuiltModule, BuildFailure>, run: GuestRun?) -> [CheckResult] {
        let reported = Dictionary(run?.messages.compactMap { timed -> (String, Outcome)? in
            if case .result(let id, let outcome) = timed.message { return (id, outcome) }
            return nil
        } ?? [], uniquingKeysWith: { first, _ in first })
        let evidence = Evidence(build: build, run: run)

        return suite.expectations.map { expectation in
            guard expectation.evaluator.hasHostJudge else {
                return CheckResult(expectation, reported[expectation.id]
                    ?? .fail(expected: "", got: Self.missingReason(build: build, run: run)))
            }
            let found = judges.judges(for: expectation)
            guard found.count == 1, let judge = found.first else {
                return CheckResult(expectation, .fail(
                    expected: "one judge for \(expectation.id) on the host",
                    got: found.isEmpty ? "the host has no judge for it" : "the host has \(found.count)"))
            }
            return CheckResult(expectation, judge.decide(evidence))
        }
    }

    static func missingReason(build: Result<BuiltModule, BuildFailure>, run: GuestRun?) -> String {
        if case .failure = build { return "not run: the module did not build" }
        guard let run else { return "not run" }
        return missingReason(in: run)
    }

    /// Why a run that booted has no result for a check.
    static func missingReason(in run: GuestRun) -> String {
        if run.timedOut { return "no result: the guest did not finish in time" }
        if run.panicked {
            let cause = run.consoleLog.firstAlarm.map { ": \(strip($0))" } ?? ""
            return "no result: the kernel panicked\(cause)"
        }
        if run.readyAt == nil { return "no result: the agent never started (see the console)" }
        return "no result: the agent stopped before this check"
    }

    /// The console lines to show when the guest died when it should not have
    /// (a crash the agent announced is expected).
    public static func crashExcerpt(_ run: GuestRun) -> [String] {
        if run.finished && !run.panicked { return [] }
        if run.announcedCrash != nil && run.panicked { return [] }
        let log = run.consoleLog
        let alarm = log.alarmExcerpt(limit: 25)
        return alarm.isEmpty ? Array(log.lines.filter { !$0.isEmpty }.suffix(25)) : alarm
    }
}

/// "[    4.350033] BUG: ..." → "BUG: ...".
func strip(_ line: String) -> String {
    guard line.hasPrefix("["), let close = line.firstIndex(of: "]") else { return line }
    return String(line[line.index(after: close)...].drop { $0 == " " })
}
