/// What a check found.
public enum Outcome: Sendable, Equatable {
    /// Verified; the text is what was observed (may be empty).
    case pass(String)
    /// Not as expected.
    case fail(expected: String, got: String)
    /// Not run, with the reason (e.g. an earlier check it needs failed).
    case skip(String)

    public var isPass: Bool { if case .pass = self { true } else { false } }
    public var isFail: Bool { if case .fail = self { true } else { false } }
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
