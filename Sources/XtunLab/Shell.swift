import Foundation

/// The result of running a program to completion.
public struct ProgramOutput: Sendable {
    public let status: Int32
    public let output: String

    public var succeeded: Bool { status == 0 }
}

/// Runs host programs. Every external tool the lab uses goes through here.
public enum Shell {
    /// Runs `arguments[0]` (looked up in PATH) and collects stdout and stderr together.
    @discardableResult
    public static func run(_ arguments: [String], in directory: URL? = nil,
                           environment: [String: String]? = nil) throws -> ProgramOutput {
        try stream(arguments, in: directory, environment: environment) { _ in }
    }

    /// Runs a program, handing each line of its output to `onLine` as it
    /// comes (for progress), and collects the output too.
    @discardableResult
    public static func stream(_ arguments: [String], in directory: URL? = nil,
                              environment: [String: String]? = nil,
                              onLine: (String) -> Void) throws -> ProgramOutput {
        let child = try Spawned.start(arguments, in: directory, environment: environment)
        var output: [UInt8] = []
        var lineStart = 0
        child.readOutput { chunk in
            output.append(contentsOf: chunk)
            while let newline = output[lineStart...].firstIndex(of: UInt8(ascii: "\n")) {
                onLine(String(decoding: output[lineStart..<newline], as: UTF8.self))
                lineStart = newline + 1
            }
        }
        return ProgramOutput(status: child.wait(), output: String(decoding: output, as: UTF8.self))
    }

    /// Runs a program that must succeed; throws `LabError.command` with its output otherwise.
    @discardableResult
    public static func must(_ arguments: [String], in directory: URL? = nil) throws -> String {
        let result = try run(arguments, in: directory)
        guard result.succeeded else {
            throw LabError.command(arguments.joined(separator: " "), result.status, result.output)
        }
        return result.output
    }

    /// The full path of a program in PATH, or nil.
    public static func which(_ program: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(program)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

/// What can stop the lab before any check runs. Each prints as one line.
public enum LabError: Error, CustomStringConvertible, Equatable {
    case usage(String)
    case environment(String)
    case command(String, Int32, String)

    public var description: String {
        switch self {
        case .usage(let text), .environment(let text): return text
        case .command(let command, let status, let output):
            let tail = output.split(separator: "\n").suffix(15).joined(separator: "\n")
            return "`\(command)` failed (exit \(status))" + (tail.isEmpty ? "" : ":\n\(tail)")
        }
    }
}
