import Foundation
import Testing
@testable import XtunLab

/// check-step as a user runs it in a terminal: tmux gives it a real
/// pseudo-terminal, and the test types into it and reads the screen.
@Suite("In a terminal", .serialized, .enabled(if: Shell.which("tmux") != nil, "needs tmux (./setup installs it)"))
struct TerminalTests {
    /// A tmux session running one command line.
    struct Session {
        let name: String

        init(_ command: String) throws {
            name = "xtun-test-\(getpid())-\(Int.random(in: 0..<1_000_000))"
            try Shell.must(["tmux", "new-session", "-d", "-s", name, "-x", "160", "-y", "48",
                            "cd '\(labPaths.root.path)' && \(command); echo EXITED=$?; sleep 300"])
        }

        func type(_ keys: String...) throws { try Shell.must(["tmux", "send-keys", "-t", name] + keys) }

        var screen: String { (try? Shell.run(["tmux", "capture-pane", "-p", "-t", name]).output) ?? "" }

        /// Waits until the screen shows `text`; returns whether it did.
        func await(_ text: String, seconds: Double) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if screen.contains(text) { return true }
                Thread.sleep(forTimeInterval: 0.5)
            }
            return false
        }

        /// check-step's pid: the child of the pane's shell.
        var checkStep: pid_t? {
            guard let shell = Int32((try? Shell.run(["tmux", "display", "-p", "-t", name, "#{pane_pid}"]))?
                .output.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") else { return nil }
            return children(of: shell).first
        }

        func end() { _ = try? Shell.run(["tmux", "kill-session", "-t", name]) }
    }

    static var checkStep: String { CommandLineTests.binary.path }

    /// How long check-step may take to reach its guest: it may build the
    /// agent, the initramfs and the module first, on a busy machine.
    static let startup: Double = 600

    /// The processes whose parent is `pid`.
    static func children(of pid: pid_t) -> [pid_t] {
        ((try? Shell.run(["pgrep", "-P", "\(pid)"]))?.output ?? "").split(separator: "\n").compactMap { Int32($0) }
    }

    /// Whether `pid` is a live process (a zombie waiting to be reaped is not).
    static func isAlive(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(after: close)...].drop { $0 == " " }.first != "Z"
    }

    /// QEMU processes started by `pid`.
    static func guests(of pid: pid_t) -> [pid_t] {
        ((try? Shell.run(["pgrep", "-P", "\(pid)", "qemu-system"]))?.output ?? "")
            .split(separator: "\n").compactMap { Int32($0) }
    }

    @Test("shell: typed input reaches the guest, Ctrl-C reaches its foreground program, exit returns")
    func shellGetsTheTerminal() throws {
        try RunCache.shared.exclusive {
            let session = try Session("\(Self.checkStep) shell 1")
            defer { session.end() }
            #expect(session.await("xtun lab shell", seconds: Self.startup), "no shell prompt:\n\(session.screen)")
            Thread.sleep(forTimeInterval: 2)
            try session.type("echo answer=$((6*7))", "Enter")
            #expect(session.await("answer=42", seconds: 20), "\(session.screen)")
            try session.type("sleep 300", "Enter")
            Thread.sleep(forTimeInterval: 1)
            try session.type("C-c")
            try session.type("echo interrupted=$?", "Enter")
            #expect(session.await("interrupted=130", seconds: 20), "Ctrl-C did not stop the guest's sleep:\n\(session.screen)")
            // Debian's tools, from the host's root over 9p.
            try session.type("\(HostShare.runner) tcpdump --version", "Enter")
            #expect(session.await("tcpdump version 4.99", seconds: 60), "\(session.screen)")
            try session.type("exit", "Enter")
            #expect(session.await("EXITED=0", seconds: 60), "\(session.screen)")
        }
    }

    @Test("Ctrl-C during a check stops its QEMU at once")
    func interruptStopsTheGuest() throws {
        try RunCache.shared.exclusive {
            let session = try Session("\(Self.checkStep) 4")
            defer { session.end() }
            var guest: pid_t?
            let deadline = Date().addingTimeInterval(Self.startup)
            while guest == nil, Date() < deadline {
                if let checkStep = session.checkStep { guest = Self.guests(of: checkStep).first }
                Thread.sleep(forTimeInterval: 0.5)
            }
            let qemu = try #require(guest, "QEMU never started:\n\(session.screen)")
            try session.type("C-c")
            #expect(session.await("EXITED=130", seconds: 10), "\(session.screen)")
            #expect(!Self.isAlive(qemu), "QEMU \(qemu) is still running after Ctrl-C")
        }
    }

    @Test("SIGTERM and SIGHUP to check-step stop its QEMU", arguments: [SIGTERM, SIGHUP])
    func signalsStopTheGuest(_ signal: Int32) throws {
        try RunCache.shared.exclusive {
            let child = try Spawned.start([Self.checkStep, "3"], in: labPaths.root, streams: .discarded)
            var guest: pid_t?
            let deadline = Date().addingTimeInterval(Self.startup)
            while guest == nil, Date() < deadline, Self.isAlive(child.pid) {
                guest = Self.guests(of: child.pid).first
                Thread.sleep(forTimeInterval: 0.5)
            }
            let qemu = try #require(guest, "QEMU never started")
            kill(child.pid, signal)
            #expect(child.wait() == 128 + signal)
            Thread.sleep(forTimeInterval: 0.5)
            #expect(!Self.isAlive(qemu), "QEMU \(qemu) is still running after signal \(signal)")
        }
    }
}
