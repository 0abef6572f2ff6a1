import Testing
import XtunChecks
@testable import XtunLab

@Suite("Verdicts from a guest run")
struct VerdictTests {
    let suite = Suite.of(.stage01)
    let clean = Result<BuiltModule, BuildFailure>.success(
        BuiltModule(module: labPaths.work, warnings: [], log: "", built: true))

    func run(_ messages: [WireMessage], console: String = "", timedOut: Bool = false) -> GuestRun {
        GuestRun(messages: messages.map { TimedMessage(message: $0, at: 1) }, console: console,
                 timedOut: timedOut, exitStatus: 0, duration: 5)
    }

    @Test func everyExpectationGetsAResultInSuiteOrder() {
        let results = VerdictAssembler(suite: suite).results(build: clean, run: run([.ready(uptime: 1)]))
        #expect(results.map(\.expectation) == suite.expectations)
        #expect(results[0].outcome.isPass)
        #expect(results.dropFirst().allSatisfy { $0.outcome.isFail })
    }

    @Test func missingResultsSayTheKernelPanicked() {
        let console = "[ 4.3] BUG: kernel NULL pointer dereference, address: 0\n[ 4.4] Kernel panic - not syncing: Fatal exception in interrupt"
        let results = VerdictAssembler(suite: suite).results(
            build: clean, run: run([.ready(uptime: 1), .result(id: "loads", outcome: .pass(""))], console: console))
        guard case .fail(_, let got) = results[2].outcome else { Issue.record("expected a failure"); return }
        #expect(got.hasPrefix("no result: the kernel panicked: BUG: kernel NULL pointer dereference"))
        let health = results.first { $0.expectation == .kernelLogClean }
        guard case .fail(_, let excerpt) = health?.outcome else { Issue.record("health gate passed"); return }
        #expect(excerpt.contains("BUG: kernel NULL pointer dereference"))
    }

    @Test func timeoutsAreFailures() {
        let results = VerdictAssembler(suite: suite).results(build: clean, run: run([], timedOut: true))
        guard case .fail(_, let got) = results[1].outcome else { Issue.record("expected a failure"); return }
        #expect(got == "no result: the guest did not finish in time")
    }

    @Test func warningsFailTheBuildCheck() {
        let warned = Result<BuiltModule, BuildFailure>.success(BuiltModule(
            module: labPaths.work, warnings: ["xtun_main.c:3:12: warning: 'x' defined but not used"], log: "",
            built: true))
        let results = VerdictAssembler(suite: suite).results(build: warned, run: nil)
        #expect(results[0].outcome.isFail)
    }

    @Test func aBuildFailureFailsEverything() {
        let broken = Result<BuiltModule, BuildFailure>.failure(BuildFailure(log: "xtun_net.c:9:1: error: expected ';'"))
        let results = VerdictAssembler(suite: suite).results(build: broken, run: nil)
        #expect(results.allSatisfy { $0.outcome.isFail })
        #expect(results[1].outcome == .fail(expected: "", got: "not run: the module did not build"))
    }

    @Test func theCrashFinaleNeedsTheOopsInDevHardStartXmit() {
        let messages: [WireMessage] = [.ready(uptime: 1), .expectCrash(id: "no-xmit-oops")]
        let oops = """
            [ 4.35] BUG: kernel NULL pointer dereference, address: 0000000000000000
            [ 4.35] Workqueue: mld mld_ifc_work
            [ 4.35] RIP: 0010:0x0
            [ 4.35]  dev_hard_start_xmit+0x63/0x1d0
            [ 4.36] Kernel panic - not syncing: Fatal exception in interrupt
            """
        let assembler = VerdictAssembler(suite: suite)
        let crashed = assembler.results(build: clean, run: run(messages, console: oops)).last!
        #expect(crashed.outcome.isPass)
        let survived = assembler.results(build: clean, run: run(messages + [.done(uptime: 9)])).last!
        #expect(survived.outcome == .fail(expected: "an oops: dev_hard_start_xmit calling the NULL .ndo_start_xmit",
                                          got: "no oops; the guest kept running"))
    }

    @Test func aCrashTheAgentDidNotAnnounceIsNoPass() {
        let oops = "[ 4.35] BUG: kernel NULL pointer dereference, address: 0\n[ 4.35]  dev_hard_start_xmit+0x63/0x1d0"
        let finale = VerdictAssembler(suite: suite).results(build: clean, run: run([.ready(uptime: 1)], console: oops)).last!
        #expect(finale.expectation == .transmitWithoutXmitCrashes)
        #expect(finale.outcome.isFail)
    }

    @Test func theFinaleSaysWhyTheAgentCouldNotProvokeIt() {
        let reason = Outcome.fail(expected: "", got: "not run: the kernel oopsed earlier")
        let finale = VerdictAssembler(suite: suite).results(
            build: clean, run: run([.ready(uptime: 1), .result(id: "no-xmit-oops", outcome: reason)])).last!
        #expect(finale.outcome == reason)
    }

    @Test func anExpectationWithoutItsHostJudgeFails() {
        var assembler = VerdictAssembler(suite: suite)
        assembler.judges = HostJudgeRegistry(byStage: [])
        let results = assembler.results(build: clean, run: run([.ready(uptime: 1)]))
        #expect(results[0].outcome == .fail(expected: "one judge for builds-clean on the host",
                                            got: "the host has no judge for it"))
    }

    @Test func aGuestResultCannotDecideAHostExpectation() {
        let claims = run([.ready(uptime: 1), .result(id: "no-xmit-oops", outcome: .pass("trust me"))])
        #expect(VerdictAssembler(suite: suite).results(build: clean, run: claims).last!.outcome.isFail)
    }

    @Test func anEmptyRunIsNoPass() {
        let verdict = StageVerdict(
            suite: Suite(stage: .stage01, expectations: []), kernel: ProvisionedKernel(
                release: "r", version: "v", vmlinuz: "", headers: "", packages: []),
            source: "s", pitfall: nil, results: [], omitted: [], crashExcerpt: [], console: "",
            timings: Timings(), accelerator: .tcg, moduleRebuilt: false)
        #expect(!verdict.isPass)
    }

    @Test func hostRunsLeaveOutWhatNeedsTheConsoleAndSaySo() {
        let (runnable, omitted) = suite.runnable(at: .host)
        #expect(omitted == [.initUnwinds, .noLeaks, .transmitWithoutXmitCrashes])
        #expect(!runnable.expectations.contains(.transmitWithoutXmitCrashes))
        let verdict = StageVerdict(
            suite: runnable, kernel: ProvisionedKernel(release: "6.18.0", version: "running", vmlinuz: "",
                                                       headers: "", packages: []),
            source: "steps/01-init", pitfall: nil, results: [CheckResult(.loads, .pass(""))], omitted: omitted,
            crashExcerpt: [], console: "", timings: Timings(total: 1), accelerator: .host, moduleRebuilt: false)
        let text = TextReport(style: ReportStyle(color: false)).render(verdict)
        #expect(text.contains("[01-init] not run here: with IPv6 on,"))
        #expect(text.contains("1 passed, 0 failed, 3 not run (HOST"))
    }

    @Test func reportShowsExpectedGotAndHint() {
        let verdict = StageVerdict(
            suite: suite, kernel: ProvisionedKernel(release: "6.1.0-56-amd64", version: "6.1.192-2", vmlinuz: "",
                                                    headers: "", packages: []),
            source: "steps/01-init", pitfall: nil,
            results: [CheckResult(.mtu1500, .fail(expected: "1500", got: "9000")), CheckResult(.loads, .pass("insmod exit 0"))],
            omitted: [], crashExcerpt: [], console: "", timings: Timings(total: 1.25), accelerator: .tcg, moduleRebuilt: false)
        let text = TextReport(style: ReportStyle(color: false)).render(verdict)
        #expect(text.contains("[01-init] FAIL  xtun has MTU 1500: expected 1500, got 9000\n          hint: book/01-init.md#ether-setup\n"))
        #expect(text.contains("[01-init] PASS  insmod xtun.ko succeeds — insmod exit 0\n"))
        #expect(text.hasSuffix("[01-init] 1 passed, 1 failed (TCG, 1.3 s)\n"))
        let colored = TextReport(style: ReportStyle(color: true)).render(verdict)
        #expect(colored.contains("\u{1b}[31mFAIL\u{1b}[0m"))
    }

    @Test func colorFollowsTerminalAndNoColor() {
        #expect(ReportStyle.colorAllowed(isTerminal: true, environment: [:]))
        #expect(!ReportStyle.colorAllowed(isTerminal: false, environment: [:]))
        #expect(!ReportStyle.colorAllowed(isTerminal: true, environment: ["NO_COLOR": "1"]))
    }

    @Test func kvmOnlyWhenTheCPUHasIt() {
        #expect(Accelerator.detect(environment: ["XTUN_ACCEL": "tcg"]) == .tcg)
        #expect(Accelerator.detect(environment: ["XTUN_ACCEL": "kvm"]) == .kvm)
    }
}

@Suite("Guests booted at once, as one run")
struct CombinedRunTests {
    static func run(_ messages: [(WireMessage, Double)], duration: Double = 10) -> GuestRun {
        GuestRun(messages: messages.map { TimedMessage(message: $0.0, at: $0.1) }, console: "",
                 timedOut: false, exitStatus: 0, duration: duration)
    }

    let first: GuestRun
    let second: GuestRun

    init() {
        first = Self.run([(.ready(uptime: 1), 4), (.result(id: "fuzz", outcome: .pass("fuzzed")), 6),
                     (.result(id: "kernel-log-clean", outcome: .pass("10 lines")), 9), (.done(uptime: 9), 9.5)])
        second = Self.run([(.ready(uptime: 1), 5), (.result(id: "openvpn", outcome: .pass("tunnel")), 8),
                      (.result(id: "kernel-log-clean", outcome: .pass("20 lines")), 11), (.done(uptime: 11), 11.5)],
                     duration: 12)
    }

    func outcome(_ run: GuestRun, _ id: String) -> Outcome? {
        run.messages.lazy.compactMap { if case .result(id, let outcome) = $0.message { outcome } else { nil } }.first
    }

    @Test func eachGuestsResultsAndTheGatesOfBoth() {
        let combined = GuestRun.combined([first, second])
        #expect(outcome(combined, "fuzz") == .pass("fuzzed"))
        #expect(outcome(combined, "openvpn") == .pass("tunnel"))
        #expect(outcome(combined, "kernel-log-clean") == .pass("10 lines; guest 2: 20 lines"))
        #expect(combined.readyAt == 5 && combined.doneAt == 11.5 && combined.duration == 12)
        #expect(combined.checkTimes.map(\.id) == ["fuzz", "kernel-log-clean", "openvpn", "kernel-log-clean"])
        #expect(combined.guestChecks == [6, 7])
    }

    @Test func aGateFailsIfAnyGuestFailedItOrNeverGotThere() {
        let failed = Self.run([(.ready(uptime: 1), 5),
                          (.result(id: "kernel-log-clean", outcome: .fail(expected: "no alarm", got: "WARN")), 6),
                          (.done(uptime: 6), 7)])
        #expect(outcome(GuestRun.combined([first, failed]), "kernel-log-clean")
            == .fail(expected: "no alarm", got: "in guest 2: WARN"))
        let stopped = Self.run([(.ready(uptime: 1), 5), (.result(id: "openvpn", outcome: .pass("tunnel")), 8)])
        let combined = GuestRun.combined([first, stopped])
        guard case .fail(_, let got) = outcome(combined, "kernel-log-clean") else {
            Issue.record("a gate passed that guest 2 never reached")
            return
        }
        #expect(got.hasPrefix("in guest 2: no result"))
        #expect(!combined.finished)
    }
}
