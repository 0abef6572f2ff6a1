/// The first line where two texts differ.
public struct LineDifference: Sendable, Hashable, CustomStringConvertible {
    /// 1-based line number.
    public let line: Int
    /// The expected line, or `nil` when the expected text has ended.
    public let expected: String?
    /// The actual line, or `nil` when the actual text has ended.
    public let actual: String?

    public init(line: Int, expected: String?, actual: String?) {
        self.line = line
        self.expected = expected
        self.actual = actual
    }

    /// The first difference between `expected` and `actual`, or `nil` when
    /// they are equal. A missing final newline shows as a difference on the
    /// last line.
    public static func first(expected: String, actual: String) -> LineDifference? {
        guard expected != actual else { return nil }
        let want = lines(expected)
        let have = lines(actual)
        let count = max(want.count, have.count)
        for index in 0..<count {
            let wanted = index < want.count ? want[index] : nil
            let had = index < have.count ? have[index] : nil
            if wanted != had {
                return LineDifference(line: index + 1, expected: wanted, actual: had)
            }
        }
        // Same lines, different bytes: only the final newline differs.
        let last = max(want.count, 1)
        let line = want.last ?? ""
        return expected.hasSuffix("\n")
            ? LineDifference(line: last, expected: line, actual: line + " [no newline at end of file]")
            : LineDifference(line: last, expected: line + " [no newline at end of file]", actual: line)
    }

    /// `line 12: expected `a`, found `b``.
    public var description: String {
        "line \(line): expected \(Self.show(expected)), found \(Self.show(actual))"
    }

    static func show(_ line: String?) -> String {
        line.map { "`\($0)`" } ?? "end of text"
    }

    /// The lines of `text`, without the newline after the last one.
    static func lines(_ text: String) -> [String] {
        var parts = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if parts.last == "" { parts.removeLast() }
        return parts
    }
}
