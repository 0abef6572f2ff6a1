import ArgumentParser
import Foundation
import Testing
import XtunChecks
@testable import CheckStep
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
        (["1", "--kernel", "5.10"], "unknown kernel '5.10'"),
        (["1", "--pitfall", "nope"], "unknown pitfall 'nope'"),
        (["1", "--pitfall", "leak-skb"], "pitfall leak-skb belongs to stage 2"),
        (["1", "--dir", "/nonexistent"], "--dir /nonexistent: no such directory"),
        (["1", "--dir", "/tmp"], "holds no module sources"),
        (["all", "--dir", "steps/01-init"], "--dir checks one stage"),
        (["shell", "all"], "this command takes one stage"),
        (["shell", "1", "--kernel", "all"], "this command boots one kernel"),
        (["1", "--host", "--pitfall", "null-netdev-ops"], "--host does not build pitfalls"),
        (["1", "--host", "--kernel", "6.12"], "--host checks the running kernel; it takes no --kernel"),
        (["1", "--shell"], "Unknown option '--shell'"),
        (["3", "--bench"], "--bench needs a stage that reads and writes: 4 on"),
        (["5", "--bench", "--kernel", "all"], "--bench boots one kernel"),
        (["5", "--bench", "--trace"], "--bench runs alone in the VM"),
        (["5", "--bench", "--rounds", "0"], "--rounds must be at least 1"),
    ])
    func usageErrorsExit2(_ arguments: [String], _ message: String) throws {
        let result = try run(arguments)
        #expect(result.status == 2, "\(arguments): \(result.output)")
        #expect(result.output.contains(message), "\(arguments): \(result.output)")
    }

    @Test("check is the default command", arguments: [["3"], ["check", "3"]])
    func checkIsTheDefault(_ arguments: [String]) throws {
        let command = try #require(try CheckStepCommand.parseAsRoot(arguments) as? CheckCommand)
        let requests = try command.requests()
        #expect(requests.map(\.stage) == [.stage03])
        #expect(requests.map(\.machine) == [.virtualMachine(.v6_1)])
        #expect(requests.map(\.source) == [.steps])
    }

    @Test func allStagesOnAllKernelsIsEveryPair() throws {
        let command = try #require(try CheckStepCommand.parseAsRoot(["all", "--kernel", "all"]) as? CheckCommand)
        let requests = try command.requests()
        #expect(requests.count == Stage.written.count * KernelChoice.all.count)
        #expect(Set(requests.map(\.stage)) == Set(Stage.written))
    }

    @Test func hostIsAMachineNotAKernel() throws {
        let command = try #require(try CheckStepCommand.parseAsRoot(["2", "--host"]) as? CheckCommand)
        #expect(try command.requests().map(\.machine) == [.host])
    }

    @Test func shellIsACommandOfItsOwn() throws {
        let command = try #require(
            try CheckStepCommand.parseAsRoot(["shell", "4", "--kernel", "6.12", "--pitfall", "noarp"]) as? ShellCommand)
        let request = try command.request()
        #expect(request.stage == .stage04)
        #expect(request.machine == .virtualMachine(.v6_12))
        #expect(request.source == .pitfall(.noarp))
    }

    @Test(.enabled(if: !HostMachine.refusals().isEmpty, "this machine can load modules: --host would run"))
    func hostModeRefusesWithTheReasons() throws {
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

    @Test(arguments: [["--help"], ["check", "--help"]])
    func helpExplainsExitCodes(_ arguments: [String]) throws {
        let result = try run(arguments)
        #expect(result.status == 0)
        let text = result.output.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(text.contains(ExitStatus.documentation))
    }
}
