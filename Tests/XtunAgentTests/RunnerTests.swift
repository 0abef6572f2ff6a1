import Glibc
import Testing
import XtunChecks
@testable import XtunAgent

/// The runner never lets an expectation pass without its check, and never
/// waits for a check without a bound.
@Suite("Runner")
struct RunnerTests {
    let report = CapturedReport()

    func run(_ expectations: [XtunChecks.Expectation], _ checks: [GuestCheck]) -> [WireMessage] {
        let session = Session(modulePath: "/nonexistent/xtun.ko", reporter: report.reporter, stage: .stage01)
        let registry = GuestCheckRegistry(byStage: [(.stage01, checks)])
        Runner(suite: Suite(stage: .stage01, expectations: expectations), session: session, registry: registry).run()
        return report.messages()
    }

    @Test func anExpectationWithoutACheckFails() {
        let messages = run([.registered], [])
        #expect(report.outcome(messages, .registered)
            == .fail(expected: "one check named registered in the agent", got: "the agent has no check for it"))
    }

    @Test func anExpectationWithTwoChecksFails() {
        let twice = [GuestCheck(.registered, needsModule: false) { _ in "one" },
                     GuestCheck(.registered, needsModule: false) { _ in "two" }]
        let messages = run([.registered], twice)
        #expect(report.outcome(messages, .registered)?.isFail == true)
    }

    @Test func aCheckThatBlocksFailsInTimeAndStopsWhatFollows() {
        let started = Sys.now()
        let checks = [
            GuestCheck(.registered, needsModule: false, timeout: 0.5) { _ in Sys.sleep(seconds: 30); return "" },
            GuestCheck(.typeEther, needsModule: false) { _ in "ran" },
            GuestCheck(.kernelLogClean, needsModule: false, runsAfterTrouble: true) { _ in "gate ran" },
        ]
        let messages = run([.registered, .typeEther, .kernelLogClean], checks)
        #expect(Sys.now() - started < 5)
        #expect(report.outcome(messages, .registered) == .fail(
            expected: "the check to finish within 0.5 s",
            got: "still running after 0.5 s: a call into the kernel never returned"))
        #expect(report.outcome(messages, .typeEther)
            == .fail(expected: "", got: "not run: registered is still blocked in the kernel"))
        #expect(report.outcome(messages, .kernelLogClean) == .pass("gate ran"))
    }

    @Test func aConsoleExpectationIsAnnouncedAndLeftToTheHost() {
        let checks = [GuestCheck(.transmitWithoutXmitCrashes, needsModule: false) { _ in "provoked" }]
        let messages = run([.buildsClean, .transmitWithoutXmitCrashes], checks)
        #expect(messages == [.expectCrash(id: "no-xmit-oops"), .note("provoked")])
    }

    @Test func aConsoleExpectationThatCannotBeProvokedIsReportedFailed() {
        let checks = [GuestCheck(.transmitWithoutXmitCrashes, needsModule: false) { _ in
            throw Failure(expected: "xtun loaded", got: "insmod: exit 1") }]
        let messages = run([.transmitWithoutXmitCrashes], checks)
        #expect(report.outcome(messages, .transmitWithoutXmitCrashes)
            == .fail(expected: "xtun loaded", got: "insmod: exit 1"))
    }

    @Test func aFailureNamesTheErrnoOfTheFailingCallNotALaterOne() throws {
        let failed = Result<[UInt8], Errno>.failure(Errno(code: EBADF))
        errno = ENOENT  // what any later call might leave behind
        let failure = try #require(throws: Failure.self) { try failed.get(expected: "a read") }
        #expect(failure.got.hasPrefix("EBADF"))
    }
}

@Suite("Kernel log records")
struct KernelLogRecordTests {
    @Test func aRecordBecomesALineWithItsTime() {
        #expect(KernelLogReader.format("6,339,5140900,-;xtun: open\n") == ["[    5.140900] xtun: open"])
    }

    @Test func escapedNewlinesBecomeLinesOfTheirOwn() {
        let record = "4,812,35272447,-;\\x0a\\x0aand interrupts could create inverse lock ordering between them.\\x0a\n"
        #expect(KernelLogReader.format(record) == [
            "[   35.272447] ", "[   35.272447] ",
            "[   35.272447] and interrupts could create inverse lock ordering between them.", "[   35.272447] ",
        ])
        #expect(KernelLogReader.unescape("a\\x5cb") == "a\\b")
    }
}
