import Foundation
import Testing
@testable import XtunLab

/// The CLI's contract: exit 2 and one clear line for usage and environment
/// errors, before anything is built or booted.
@Suite("check-step command line")
struct CommandLineTests {
    /// Built next to the test bundle (the test target depends on CheckStep).
    static let binary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        .deletingLastPathComponent().appendingPathComponent("check-step")

    func run(_ arguments: [String]) throws -> ProgramOutput {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path), "no \(Self.binary.path)")
        return try Shell.run([Self.binary.path] + arguments, in: labPaths.root)
    }

    @Test(arguments: [
        (["7"], "unknown stage '7'"),
        (["five"], "unknown stage 'five'"),
        (["5"], "stage 05-test is not written yet"),
        (["1", "--kernel", "5.10"], "unknown kernel '5.10'"),
        (["1", "--pitfall", "nope"], "unknown pitfall 'nope'"),
        (["1", "--pitfall", "leak-skb"], "pitfall leak-skb belongs to stage 2"),
        (["1", "--dir", "/nonexistent"], "--dir /nonexistent: no such directory"),
        (["1", "--dir", "/tmp"], "holds no module sources"),
        (["all", "--dir", "steps/01-init"], "--dir checks one stage"),
        (["all", "--shell"], "--shell boots one stage"),
        (["1", "--host", "--pitfall", "null-netdev-ops"], "--host does not build pitfalls"),
    ])
    func usageErrorsExit2(_ arguments: [String], _ message: String) throws {
        let result = try run(arguments)
        #expect(result.status == 2, "\(arguments): \(result.output)")
        #expect(result.output.contains(message), "\(arguments): \(result.output)")
    }

    @Test func hostModeRefusesWithTheReasons() throws {
        guard !HostCheck.refusals().isEmpty else { return }  // a machine that can load modules
        let result = try run(["1", "--host"])
        #expect(result.status == 2)
        #expect(result.output.contains("--host refused: "))
    }

    @Test func missingToolsAreNamedWithTheirPackage() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path))
        let result = try Shell.run([Self.binary.path, "1"], in: labPaths.root, environment: ["PATH": "/nonexistent"])
        #expect(result.status == 2)
        #expect(result.output.contains("qemu-system-x86_64 is missing: install qemu-system-x86"), "\(result.output)")
    }

    @Test func helpExplainsExitCodes() throws {
        let result = try run(["--help"])
        #expect(result.status == 0)
        let text = result.output.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(text.contains("Exit status: 0 all checks passed, 1 a check failed, 2 usage or environment error"))
    }
}
