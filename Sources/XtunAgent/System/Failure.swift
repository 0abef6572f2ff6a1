/// A failed expectation inside a check: what should have been, what was.
struct Failure: Error {
    let expected: String
    let got: String
}

/// Throws a `Failure` unless `condition` holds.
func require(_ condition: Bool, expected: @autoclosure () -> String,
             got: @autoclosure () -> String) throws {
    if !condition { throw Failure(expected: expected(), got: got()) }
}

extension Result where Failure == Errno {
    /// The value, or a check failure naming the errno this call failed with.
    func get(expected: @autoclosure () -> String) throws -> Success {
        switch self {
        case .success(let value): return value
        case .failure(let error): throw XtunAgent.Failure(expected: expected(), got: error.description)
        }
    }
}
