/// The ordered list of expectations a stage must meet. Each stage's suite is
/// declared in its own file in `Stages/`, built from the reusable sets there;
/// a check of an earlier stage stays in later suites unless the later stage
/// changes what is true.
public struct Suite: Sendable {
    public let stage: Stage
    public let expectations: [Expectation]
    /// Expectations checked in a second guest booted beside the first. Under
    /// TCG a guest keeps one host core busy, so a stage whose checks take
    /// long splits them between two guests at once (`guests`).
    public let secondGuest: Set<Expectation>

    public init(stage: Stage, expectations: [Expectation], secondGuest: Set<Expectation> = []) {
        self.stage = stage
        self.expectations = expectations
        self.secondGuest = secondGuest.intersection(expectations)
    }

    /// What every guest of a split suite checks at its end, each on its own
    /// kernel: the module unloads and reloads, leaves nothing allocated, and
    /// the kernel log stays clean.
    public static let everyGuest: Set<Expectation> = Set(unloadAndReload + [.kernelLogClean])

    /// What guest `guest` of `guests` runs; the whole suite for nil.
    public func guest(_ guest: Int?) -> Suite { guest.map { guests[$0] } ?? self }

    /// The suite as each guest runs it, in order: one guest, or two when the
    /// suite is split, the second with its own expectations and the gates
    /// that every guest checks.
    public var guests: [Suite] {
        guard !secondGuest.isEmpty else { return [self] }
        return [
            Suite(stage: stage, expectations: expectations.filter { !secondGuest.contains($0) }),
            Suite(stage: stage, expectations: expectations.filter {
                secondGuest.contains($0) || Suite.everyGuest.contains($0)
            }),
        ]
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
        return (Suite(stage: stage, expectations: expectations.filter(met), secondGuest: secondGuest),
                expectations.filter { !met($0) })
    }
}

/// Where the agent runs: the lab's VM, or the user's own machine (`--host`),
/// where nothing may crash the kernel and settings are put back.
public enum Place: String, Sendable, Equatable {
    case virtualMachine = "vm"
    case host
}
