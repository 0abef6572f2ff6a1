import Testing
@testable import XtunChecks

/// The agent's command line is one value: what the host renders, the agent parses back.
@Suite("Agent command line")
struct AgentCommandTests {
    @Test(arguments: [
        AgentCommand.check(AgentCheck(stage: .stage03, module: "/xtun/xtun.ko", report: .file("/dev/ttyS1"))),
        .check(AgentCheck(stage: .stage01, module: "/tmp/a b/xtun.ko", place: .host)),
        .check(AgentCheck(stage: .stage02, module: "/xtun/xtun.ko", report: .file("/dev/ttyS1"), timeScale: 4,
                          debugKernel: true)),
        .load(module: "/xtun/xtun.ko"),
        .load(module: "/xtun/xtun.ko", makesTap: true),
        .respond,
        .bench(AgentBench(stage: .stage06, module: "/xtun/xtun.ko", rounds: 3, report: .file("/dev/ttyS1"), timeScale: 4)),
        .check(AgentCheck(stage: .stage04, module: "/xtun/xtun.ko", report: .file("/dev/ttyS1"), trace: true)),
        .check(AgentCheck(stage: .stage06, module: "/xtun/xtun.ko", report: .file("/dev/ttyS1"), guest: 1)),
        .tunScript(AgentTunScript(node: "/dev/xtun", uid: 1000, gid: 1001,
                                  steps: ["open a", "setiff a tap,no_pi ct0", "read a 10"])),
        .fuzz(AgentFuzz(seed: 18_446_744_073_709_551_615, calls: 25_000, node: "/dev/xtun")),
        .fuzz(AgentFuzz(seed: 7, calls: 1, node: "/dev/net/tun", uid: 1000)),
    ])
    func roundTrips(_ command: AgentCommand) throws {
        #expect(try AgentCommand(arguments: command.arguments) == command)
    }

    @Test func aGuestMustBeOneTheStageSplitsInto() {
        #expect(throws: AgentCommandError.self) {
            try AgentCommand(arguments: ["check", "--stage", "6", "--module", "/m", "--guest", "2"])
        }
        #expect(throws: AgentCommandError.self) {
            try AgentCommand(arguments: ["check", "--stage", "5", "--module", "/m", "--guest", "1"])
        }
    }

    @Test func rendersTheWordsTheGuestRuns() {
        let command = AgentCommand.check(AgentCheck(stage: .stage04, module: "/xtun/xtun.ko",
                                                    report: .file("/dev/ttyS1")))
        #expect(command.arguments == ["check", "--stage", "4", "--module", "/xtun/xtun.ko", "--report", "/dev/ttyS1"])
    }

    @Test(arguments: [
        ([], "no command"),
        (["check"], "check needs --stage N"),
        (["check", "--stage", "7", "--module", "m"], "no written stage '7'"),
        (["tun-script", "--node", "/dev/xtun", "--uid", "1000", "--", "open a"], "tun-script needs --uid N and --gid N"),
        (["respond", "--loud"], "unexpected '--loud'"),
        (["check", "--stage", "1"], "check needs --module PATH"),
        (["check", "--stage", "1", "--module", "m", "--frobnicate"], "unexpected '--frobnicate'"),
        (["check", "--stage", "1", "--stage", "2", "--module", "m"], "--stage given twice"),
        (["dance"], "unknown command 'dance'"),
        (["fuzz", "--calls", "10", "--node", "/dev/xtun"], "fuzz needs --seed N"),
        (["fuzz", "--seed", "1", "--calls", "0", "--node", "/dev/xtun"], "fuzz needs --calls N, N at least 1"),
        (["fuzz", "--seed", "1", "--calls", "5"], "fuzz needs --node PATH"),
        (["check", "--stage", "1", "--module", "m", "--time-scale", "0"],
         "--time-scale wants a whole number of at least 1, not '0'"),
    ])
    func badCommandLinesSayWhy(_ arguments: [String], _ message: String) {
        #expect(throws: AgentCommandError(message)) { try AgentCommand(arguments: arguments) }
    }

    @Test func rendersTheFuzzersWords() {
        let command = AgentCommand.fuzz(AgentFuzz(seed: 42, calls: 25_000, node: "/dev/xtun", uid: 1000))
        #expect(command.arguments == ["fuzz", "--seed", "42", "--calls", "25000", "--node", "/dev/xtun", "--uid", "1000"])
    }

    @Test func theHostRunsWithoutWhatNeedsTheConsole() {
        let (run, omitted) = Suite.of(.stage01).runnable(at: .host)
        #expect(omitted.map(\.id) == ["init-unwinds", "no-leaks", "no-xmit-oops"])
        #expect(run.expectations.allSatisfy { $0.evaluator != .console })
        #expect(Suite.of(.stage01).runnable(at: .virtualMachine).omitted.map(\.id) == ["init-unwinds"])
        #expect(Suite.of(.stage01).runnable(at: .virtualMachine, debugKernel: true).omitted.isEmpty)
        #expect(Suite.of(.stage03).runnable(at: .virtualMachine).omitted.map(\.id) == ["netconsole", "init-unwinds-device"])
        #expect(Suite.of(.stage03).runnable(at: .virtualMachine, debugKernel: true).omitted.isEmpty)
    }

    @Test func writtenStagesAreTheOnesWithSuites() {
        #expect(Stage.written == Stage.all)
        #expect(Stage.all.allSatisfy { !Suite.of($0).expectations.isEmpty })
    }
}
