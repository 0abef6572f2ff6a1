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
}

/// The outcome of checking one stage on one kernel.
public struct StageVerdict: Sendable {
    public let suite: Suite
    public let kernel: ProvisionedKernel
    public let source: String
    public let pitfall: Pitfall?
    public let results: [CheckResult]
    /// Console lines worth showing when the guest died unexpectedly.
    public let crashExcerpt: [String]
    public let console: String
    public var timings: Timings
    public let accelerator: Accelerator
    public let moduleRebuilt: Bool

    public var passed: Int { results.filter { $0.outcome.isPass }.count }
    public var failed: Int { results.filter { $0.outcome.isFail }.count }
    public var skipped: Int { results.count - passed - failed }
    public var isPass: Bool { failed == 0 }

    public func result(_ expectation: Expectation) -> CheckResult? {
        results.first { $0.expectation == expectation }
    }
}

/// Turns a build and a boot into one result per expectation, in suite order.
/// Anything the guest did not report is a failure with the reason.
public struct VerdictAssembler: Sendable {
    public let suite: Suite

    public init(suite: Suite) { self.suite = suite }

    public func results(build: Result<BuiltModule, BuildFailure>, run: GuestRun?) -> [CheckResult] {
        let reported = Dictionary(run?.messages.compactMap { timed -> (String, Outcome)? in
            if case .result(let id, let outcome) = timed.message { return (id, outcome) }
            return nil
        } ?? [], uniquingKeysWith: { first, _ in first })

        return suite.expectations.map { expectation in
            switch expectation {
            case .buildsClean:
                return CheckResult(expectation, buildOutcome(build))
            case .transmitWithoutXmitCrashes:
                if let outcome = reported[expectation.id] { return CheckResult(expectation, outcome) }
                return CheckResult(expectation, crashOutcome(run: run, build: build))
            default:
                if let outcome = reported[expectation.id] { return CheckResult(expectation, outcome) }
                if expectation == .kernelLogClean, let run, let alarm = run.consoleLog.firstAlarm {
                    return CheckResult(expectation, .fail(expected: "no WARN/BUG/Oops/refcount/leak report",
                                                          got: "the console shows \(strip(alarm))"))
                }
                return CheckResult(expectation, .fail(expected: "", got: missingReason(build: build, run: run)))
            }
        }
    }

    func buildOutcome(_ build: Result<BuiltModule, BuildFailure>) -> Outcome {
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

    /// The stage 01 finale: the console must show an oops whose call trace
    /// has dev_hard_start_xmit calling address 0.
    func crashOutcome(run: GuestRun?, build: Result<BuiltModule, BuildFailure>) -> Outcome {
        guard let run, run.messages.contains(where: {
            if case .expectCrash(let id) = $0.message { return id == Expectation.transmitWithoutXmitCrashes.id }
            return false
        }) else {
            return .fail(expected: "", got: missingReason(build: build, run: run))
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

    func missingReason(build: Result<BuiltModule, BuildFailure>, run: GuestRun?) -> String {
        if case .failure = build { return "not run: the module did not build" }
        guard let run else { return "not run" }
        if run.timedOut { return "no result: the guest did not finish in time" }
        if run.panicked {
            let cause = run.consoleLog.firstAlarm.map { ": \(strip($0))" } ?? ""
            return "no result: the kernel panicked\(cause)"
        }
        if run.readyAt == nil { return "no result: the agent never started (see the console)" }
        return "no result: the agent stopped before this check"
    }

    /// The console lines to show when the guest died when it should not have.
    public static func crashExcerpt(_ run: GuestRun, expectedCrash: Bool) -> [String] {
        if run.finished && !run.panicked { return [] }
        if expectedCrash && run.panicked { return [] }
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
