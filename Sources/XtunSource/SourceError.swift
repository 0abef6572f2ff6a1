/// One problem in the annotated source, located at `file:line`.
public struct SourceDiagnostic: Sendable, Hashable, CustomStringConvertible {
    /// The file as shown to people, e.g. `driver/xtun.c`.
    public let file: String
    /// 1-based line number.
    public let line: Int
    public let message: String

    public init(file: String, line: Int, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    /// `driver/xtun.c:12: message`.
    public var description: String { "\(file):\(line): \(message)" }
}

/// The annotated source could not be parsed: every problem found, in file
/// and line order. Its description has one `file:line: message` per line.
public struct SourceError: Error, Sendable, Hashable, CustomStringConvertible {
    public let diagnostics: [SourceDiagnostic]

    public init(diagnostics: [SourceDiagnostic]) {
        self.diagnostics = diagnostics
    }

    public var description: String {
        diagnostics.map(\.description).joined(separator: "\n")
    }
}
