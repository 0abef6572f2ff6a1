import XtunChecks

/// One check the agent runs for one expectation.
struct GuestCheck: Sendable {
    let expectation: Expectation
    /// Whether the runner loads the module first (and quiets the interface after).
    var needsModule = true
    /// Whether it still runs after an Oops or a blocked check: only what
    /// reads the log, like the health gate.
    var runsAfterTrouble = false
    /// The longest the check may take; then it fails and nothing after it
    /// touches the driver.
    var timeout: Double = 60
    /// Returns what was observed; throws `Failure`.
    let run: @Sendable (Session) throws -> String

    init(_ expectation: Expectation, needsModule: Bool = true, runsAfterTrouble: Bool = false,
         timeout: Double = 60, run: @escaping @Sendable (Session) throws -> String) {
        self.expectation = expectation
        self.needsModule = needsModule
        self.runsAfterTrouble = runsAfterTrouble
        self.timeout = timeout
        self.run = run
    }
}

/// Every guest check, registered by the stage whose suite adds its
/// expectation (`Checks/StageNNChecks.swift`, next to `XtunChecks/Stages/`).
/// A test proves each stage registers exactly the guest-evaluated
/// expectations its suite adds, once each.
struct GuestCheckRegistry: Sendable {
    let byStage: [(stage: Stage, checks: [GuestCheck])]

    static let lab = GuestCheckRegistry(byStage: [
        (.stage01, Stage01Checks.all),
        (.stage02, Stage02Checks.all),
        (.stage03, Stage03Checks.all),
        (.stage04, Stage04Checks.all),
        (.stage05, Stage05Checks.all),
        (.stage06, Stage06Checks.all),
    ])

    var all: [GuestCheck] { byStage.flatMap(\.checks) }

    /// The checks registered for `expectation`: exactly one, unless the registry is wrong.
    func checks(for expectation: Expectation) -> [GuestCheck] {
        all.filter { $0.expectation == expectation }
    }
}
