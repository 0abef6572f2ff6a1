/// The ordered list of expectations a stage must meet. Each stage's suite is
/// declared in its own file in `Stages/`, built from the reusable sets there;
/// a check of an earlier stage stays in later suites unless the later stage
/// changes what is true.
public struct Suite: Sendable {
    public let stage: Stage
    public let expectations: [Expectation]

    public init(stage: Stage, expectations: [Expectation]) {
        self.stage = stage
        self.expectations = expectations
    }

    /// The suites of the written stages, in stage order.
    public static let written: [Suite] = [stage01, stage02, stage03, stage04, stage05, stage06]

    /// The stage's suite; empty for a stage that is not written.
    public static func of(_ stage: Stage) -> Suite {
        written.first { $0.stage == stage } ?? Suite(stage: stage, expectations: [])
    }

    /// Expectations this stage adds to the previous stage's suite.
    public var added: [Expectation] {
        guard let previous = stage.previous else { return expectations }
        let before = Set(Suite.of(previous).expectations)
        return expectations.filter { !before.contains($0) }
    }

    /// What runs at `place` on this kernel, and what is left out there
    /// (`Expectation.requirement`): `--host` has no console to judge a crash
    /// from and boots no kernel the lab configured; a stock kernel has no
    /// lockdep, kmemleak or fault injection.
    public func runnable(at place: Place, debugKernel: Bool = false) -> (run: Suite, omitted: [Expectation]) {
        let met = { (expectation: Expectation) in
            expectation.requirement?.isMet(at: place, debugKernel: debugKernel) ?? true
        }
        return (Suite(stage: stage, expectations: expectations.filter(met)), expectations.filter { !met($0) })
    }
}

/// Where the agent runs: the lab's VM, or the user's own machine (`--host`),
/// where nothing may crash the kernel and settings are put back.
public enum Place: String, Sendable, Equatable {
    case virtualMachine = "vm"
    case host
}
