import XtunChecks

/// Runs a stage's suite in the booted kernel and reports each result.
struct Runner {
    let suite: Suite
    let session: Session
    var registry = GuestCheckRegistry.lab

    /// Runs every expectation the agent has a part in; returns whether all it reported passed.
    @discardableResult
    func run() -> Bool {
        var allPassed = true
        for expectation in suite.expectations where expectation.evaluator.hasGuestCheck {
            let outcome = self.outcome(of: expectation)
            switch expectation.evaluator {
            case .console:
                // The host decides from the console; the agent says what it did,
                // and reports a failure only when it could not provoke it at all.
                switch outcome {
                case .pass(let observed): session.note(observed)
                case .fail:
                    allPassed = false
                    session.reporter.send(.result(id: expectation.id, outcome: outcome))
                }
            default:
                allPassed = allPassed && outcome.isPass
                session.reporter.send(.result(id: expectation.id, outcome: outcome))
            }
        }
        return allPassed
    }

    func outcome(of expectation: Expectation) -> Outcome {
        let found = registry.checks(for: expectation)
        guard found.count == 1, let check = found.first else {
            return .fail(expected: "one check named \(expectation.id) in the agent",
                         got: found.isEmpty ? "the agent has no check for it" : "the agent has \(found.count)")
        }
        if let trouble = session.trouble, !check.runsAfterTrouble {
            // Nothing after an Oops or a blocked check can be trusted; report, don't run.
            return .fail(expected: "", got: "not run: \(trouble)")
        }
        if expectation.evaluator == .console {
            session.reporter.send(.expectCrash(id: expectation.id))
        }
        let session = self.session
        let worker = Worker { () -> Outcome in
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
        let deadline = check.timeout * session.timeScale
        guard let outcome = worker.join(timeout: deadline) else {
            session.blockedCheck = expectation
            return .fail(expected: "the check to finish within \(seconds(deadline))",
                         got: "still running after \(seconds(deadline)): a call into the kernel never returned")
        }
        return outcome
    }
}
