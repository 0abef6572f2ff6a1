import Glibc
import Testing
@testable import XtunAgent

/// Every wait on a child or a thread has a bound.
@Suite("Bounded waits")
struct CommandTests {
    @Test func aChildThatClosesItsOutputAndRunsOnIsKilledInTime() {
        let started = Sys.now()
        let result = Command.run(["sh", "-c", "exec >&- 2>&-; sleep 60"], timeout: 1)
        #expect(Sys.now() - started < 10)
        #expect(result.timedOut)
        #expect(result.signal == SIGKILL)
    }

    @Test func aChildsChildrenDieWithItOnTimeout() throws {
        let marker = "/tmp/xtun-agent-test-\(getpid())-grandchild"
        let result = Command.run(["sh", "-c", "(sleep 2; touch \(marker)) & sleep 60"], timeout: 0.5)
        #expect(result.timedOut)
        Sys.sleep(seconds: 2.5)
        #expect(!Sys.exists(marker), "the grandchild outlived the timeout")
        unlink(marker)
    }

    @Test func aChattyChildNeverBlocksWhileNobodyReads() throws {
        let marker = "/tmp/xtun-agent-test-\(getpid())-chatty"
        unlink(marker)
        let child = try Command.mustStart(["sh", "-c", "head -c 1000000 /dev/zero | tr '\\\\0' x; touch \(marker)"])
        #expect(Sys.wait(seconds: 10) { Sys.exists(marker) }, "the child blocked on its output")
        let result = child.finish(timeout: 5)
        #expect(result.succeeded)
        #expect(result.output.count == 1_000_000)
        unlink(marker)
    }

    @Test func outputIsKeptWithTheExitStatus() {
        let result = Command.run(["sh", "-c", "echo out; echo err >&2; exit 3"])
        #expect(result.exitStatus == 3)
        #expect(result.output == "out\nerr\n")
        #expect(result.summary == "exit 3: out")
    }

    @Test func aProgramThatDoesNotExistSaysSo() {
        let result = Command.run(["/nonexistent/program"])
        #expect(result.exitStatus == 127)
        #expect(result.output.contains("cannot run /nonexistent/program: ENOENT"))
    }

    @Test func aBlockedThreadIsGivenUpOnInTime() {
        let started = Sys.now()
        let worker = Worker { () -> Int in Sys.sleep(seconds: 30); return 1 }
        #expect(worker.join(timeout: 0.3) == nil)
        #expect(Sys.now() - started < 2)
        #expect(Worker { 42 }.join(timeout: 5) == 42)
    }

    @Test func isRunningDoesNotReap() {
        guard case .success(let child) = Command.start(["true"]) else { Issue.record("true did not start"); return }
        Sys.sleep(seconds: 0.3)
        #expect(!child.isRunning)
        #expect(child.finish(timeout: 5).exitStatus == 0)
    }
}
