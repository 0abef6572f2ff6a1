import Foundation
import Testing
@testable import XtunLab

@Suite("Host programs")
struct ShellTests {
    @Test("a program that leaves a daemon behind is seen to end")
    func aDaemonLeftBehindDoesNotHoldTheWait() throws {
        // What `tmux new-session -d` does the first time: start a server that
        // closes its stdio and lives on. Foundation's Process never saw the
        // client end (swift-corelibs-foundation 4795), and a CI run hung.
        // The run is on a thread of its own so that a hang fails the test.
        let done = DispatchSemaphore(value: 0)
        let result = Locked<ProgramOutput?>(nil)
        Thread.detachNewThread {
            result.set(try? Shell.run(["sh", "-c", "sleep 60 </dev/null >/dev/null 2>&1 & echo $!"]))
            done.signal()
        }
        #expect(done.wait(timeout: .now() + 10) == .success, "Shell.run still waits for a program that ended")
        let output = try #require(result.value)
        #expect(output.succeeded)
        if let daemon = Int32(output.output.trimmingCharacters(in: .whitespacesAndNewlines)) { kill(daemon, SIGKILL) }
    }

    @Test("output, exit status, directory and environment")
    func runsInTheDirectoryWithTheEnvironment() throws {
        let result = try Shell.run(["sh", "-c", "pwd; echo $XTUN_TEST_VALUE; echo oops >&2; exit 3"],
                                   in: URL(fileURLWithPath: "/tmp"), environment: ["XTUN_TEST_VALUE": "42"])
        #expect(result.status == 3)
        #expect(result.output.split(separator: "\n").sorted() == ["/tmp", "42", "oops"])
    }

    @Test("a program killed by a signal reports 128 + the signal, as a shell does")
    func signalsAreReportedAsAShellDoes() throws {
        #expect(try Shell.run(["sh", "-c", "kill -TERM $$"]).status == 128 + SIGTERM)
    }

    @Test("lines reach the callback as they come, the last one without a newline too")
    func streamHandsOverLines() throws {
        var lines: [String] = []
        let result = try Shell.stream(["printf", "one\\ntwo\\nthree"]) { lines.append($0) }
        #expect(lines == ["one", "two"])
        #expect(result.output == "one\ntwo\nthree")
    }

    @Test("a program that does not exist is an error that names it")
    func missingProgram() throws {
        #expect(throws: LabError.environment("cannot run xtun-no-such-program: No such file or directory")) {
            try Shell.run(["xtun-no-such-program"])
        }
    }
}

/// A value shared with another thread.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value { lock.withLock { stored } }
    func set(_ value: Value) { lock.withLock { stored = value } }
    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T { try lock.withLock { try body(&stored) } }
}
