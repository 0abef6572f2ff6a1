import Glibc
import XtunChecks

/// Runs a stage's suite in the booted kernel and reports each result.
struct Runner {
    let suite: Suite
    let session: Session
    let place: Place

    static let checks: [String: GuestCheck] = LifecycleChecks.all
        .merging(TransmitChecks.all) { first, _ in first }
        .merging(ReaderChecks.all) { first, _ in first }
        .merging(ReceiverChecks.all) { first, _ in first }

    func run() {
        for expectation in suite.expectations {
            if session.fatalKernelError != nil, expectation != .kernelLogClean {
                // Nothing after an oops can be trusted; report, don't run.
                session.reporter.send(.result(id: expectation.id, outcome: .fail(
                    expected: "", got: "not run: the kernel oopsed earlier")))
                continue
            }
            switch expectation {
            case .transmitWithoutXmitCrashes where place == .host:
                session.reporter.send(.result(id: expectation.id, outcome: .skip(
                    "not run with --host: it panics the kernel it runs in")))
            case .transmitWithoutXmitCrashes:
                LifecycleChecks.triggerTransmitWithoutXmit(session)
            case _ where expectation.evaluator == .host:
                continue
            default:
                session.reporter.send(.result(id: expectation.id, outcome: outcome(of: expectation)))
            }
        }
    }

    func outcome(of expectation: Expectation) -> Outcome {
        guard let check = Runner.checks[expectation.id] else {
            return .skip("the agent has no check named \(expectation.id)")
        }
        defer { if check.needsModule { session.reset() } }
        do {
            if check.needsModule { try session.ensureLoaded() }
            return .pass(try check.run(session))
        } catch let failure as Failure {
            return .fail(expected: failure.expected, got: failure.got)
        } catch {
            return .fail(expected: "no error", got: "\(error)")
        }
    }
}
