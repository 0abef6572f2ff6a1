/// What a check found. There is no third state: a check that could not
/// run is a failure that says why.
public enum Outcome: Sendable, Equatable {
    /// Verified; the text is what was observed (may be empty).
    case pass(String)
    /// Not as expected.
    case fail(expected: String, got: String)

    public var isPass: Bool { if case .pass = self { true } else { false } }
    public var isFail: Bool { !isPass }
}

/// The outcome of one expectation in one run.
public struct CheckResult: Sendable, Equatable {
    public let expectation: Expectation
    public let outcome: Outcome

    public init(_ expectation: Expectation, _ outcome: Outcome) {
        self.expectation = expectation
        self.outcome = outcome
    }
}
