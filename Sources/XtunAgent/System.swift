import Glibc

/// A failed expectation inside a check: what should have been, what was.
struct Failure: Error {
    let expected: String
    let got: String
}

/// Throws a `Failure` unless `condition` holds.
func require(_ condition: Bool, expected: @autoclosure () -> String,
             got: @autoclosure () -> String) throws {
    if !condition { throw Failure(expected: expected(), got: got()) }
}

/// Small wrappers over the system calls the checks use.
enum Sys {
    static func errnoName(_ code: Int32) -> String {
        let names: [Int32: String] = [
            EPERM: "EPERM", ENOENT: "ENOENT", EINTR: "EINTR", EIO: "EIO", EBADF: "EBADF",
            EAGAIN: "EAGAIN", ENOMEM: "ENOMEM", EFAULT: "EFAULT", EBUSY: "EBUSY",
            EEXIST: "EEXIST", ENODEV: "ENODEV", EINVAL: "EINVAL", ENOSPC: "ENOSPC",
            EMSGSIZE: "EMSGSIZE", ENOBUFS: "ENOBUFS", ENETDOWN: "ENETDOWN",
            ENETUNREACH: "ENETUNREACH", EHOSTUNREACH: "EHOSTUNREACH", ENXIO: "ENXIO",
        ]
        let text = String(cString: strerror(code))
        return "\(names[code] ?? "errno \(code)") (\(text))"
    }

    static var lastError: String { errnoName(errno) }

    /// File contents with trailing whitespace removed, or nil.
    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = Glibc.read(fd, &buffer, buffer.count)
            if count <= 0 { break }
            data += buffer[0..<count]
        }
        var text = String(decoding: data, as: UTF8.self)
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return text
    }

    static func write(_ text: String, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw Failure(expected: "to write \(path)", got: "open: \(lastError)")
        }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        guard Glibc.write(fd, bytes, bytes.count) == bytes.count else {
            throw Failure(expected: "to write \(text) to \(path)", got: lastError)
        }
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    static func sleep(milliseconds: Int) {
        var request = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }

    /// Seconds on the monotonic clock.
    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    static func uptime() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_BOOTTIME, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// Waits until `condition` holds or `seconds` pass; returns whether it held.
    static func wait(seconds: Double, every milliseconds: Int = 20, until condition: () -> Bool) -> Bool {
        let deadline = now() + seconds
        while true {
            if condition() { return true }
            if now() > deadline { return false }
            sleep(milliseconds: milliseconds)
        }
    }
}

/// How a command ended.
struct CommandResult {
    var exitStatus: Int32?
    var signal: Int32?
    var output: String
    var timedOut: Bool

    var succeeded: Bool { exitStatus == 0 }

    /// "exit 0", "exit 1: <first output line>", "killed by signal 9".
    var summary: String {
        let firstLine = output.split(separator: "\n").first.map(String.init) ?? ""
        if timedOut { return "timed out" + (firstLine.isEmpty ? "" : ": \(firstLine)") }
        if let signal { return "killed by signal \(signal)" }
        let status = "exit \(exitStatus ?? -1)"
        return firstLine.isEmpty ? status : "\(status): \(firstLine)"
    }
}

/// A child process started with `Command.start`.
struct Child {
    let pid: pid_t
    let outputFD: Int32

    /// Waits for the child to end, collecting its output; kills it after `timeout`.
    func finish(timeout: Double) -> CommandResult {
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = Sys.now() + timeout
        var timedOut = false
        while true {
            let remaining = deadline - Sys.now()
            if remaining <= 0 {
                timedOut = true
                Glibc.kill(pid, SIGKILL)
                break
            }
            var descriptor = pollfd(fd: outputFD, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(min(remaining, 1) * 1000))
            if ready < 0 && errno == EINTR { continue }
            if ready <= 0 { continue }
            let count = Glibc.read(outputFD, &buffer, buffer.count)
            if count <= 0 { break }
            output += buffer[0..<count]
        }
        close(outputFD)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = String(decoding: output, as: UTF8.self)
        if status & 0x7f != 0 {
            return CommandResult(exitStatus: nil, signal: status & 0x7f, output: text, timedOut: timedOut)
        }
        return CommandResult(exitStatus: (status >> 8) & 0xff, signal: nil, output: text, timedOut: timedOut)
    }

    /// Sends SIGKILL and reaps the child.
    func kill() -> CommandResult {
        Glibc.kill(pid, SIGKILL)
        return finish(timeout: 5)
    }
}

/// Runs programs from PATH (busybox applets in the guest).
enum Command {
    static func start(_ argv: [String]) -> Child? {
        var pipeFDs: [Int32] = [0, 0]
        guard pipe(&pipeFDs) == 0 else { return nil }
        _ = fcntl(pipeFDs[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(pipeFDs[1], F_SETFD, FD_CLOEXEC)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 1)
        posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 2)
        var cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawnp(&pid, argv[0], &actions, nil, &cArgs, environ)
        close(pipeFDs[1])
        guard status == 0 else {
            close(pipeFDs[0])
            return nil
        }
        return Child(pid: pid, outputFD: pipeFDs[0])
    }

    static func run(_ argv: [String], timeout: Double = 20) -> CommandResult {
        guard let child = start(argv) else {
            return CommandResult(exitStatus: 127, signal: nil,
                                 output: "cannot run \(argv[0])", timedOut: false)
        }
        return child.finish(timeout: timeout)
    }

    /// Runs a command that must succeed.
    @discardableResult
    static func must(_ argv: [String], timeout: Double = 20) throws -> String {
        let result = run(argv, timeout: timeout)
        try require(result.succeeded, expected: "`\(argv.joined(separator: " "))` to succeed",
                    got: result.summary)
        return result.output
    }
}

/// What a new thread runs; passed through pthread_create's argument.
private final class ThreadStart {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}

private func threadEntry(_ argument: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    Unmanaged<ThreadStart>.fromOpaque(argument!).takeRetainedValue().body()
    return nil
}

/// A thread running a closure; `join` returns its result.
final class Worker<Result>: @unchecked Sendable {
    private var thread = pthread_t()
    private var result: Result?

    init(_ body: @escaping () -> Result) {
        let start = ThreadStart { self.result = body() }
        let status = pthread_create(&thread, nil, threadEntry, Unmanaged.passRetained(start).toOpaque())
        precondition(status == 0, "pthread_create failed")
    }

    func join() -> Result {
        pthread_join(thread, nil)
        return result!
    }
}
