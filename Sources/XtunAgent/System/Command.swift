import Glibc
import XtunChecks

/// How a command ended.
struct CommandResult {
    var exitStatus: Int32?
    var signal: Int32?
    var output: String
    /// It ran past its time and was killed.
    var timedOut: Bool
    /// It did not even die of SIGKILL in time: stuck in the kernel (D state).
    var unkillable = false

    var succeeded: Bool { exitStatus == 0 }

    /// "exit 0", "exit 1: <first output line>", "killed by signal 9", "timed out".
    var summary: String {
        let firstLine = output.split(separator: "\n").first.map(String.init) ?? ""
        let detail = firstLine.isEmpty ? "" : ": \(firstLine)"
        if unkillable { return "timed out and still running after SIGKILL (stuck in the kernel)" + detail }
        if timedOut { return "timed out" + detail }
        if let signal { return "killed by signal \(signal)" }
        return "exit \(exitStatus ?? -1)" + detail
    }
}

/// A child process started with `Command.start`, in a process group of its
/// own. Its standard output and error go to an unlinked file, never to a
/// pipe, so a chatty child (tcpdump, a daemon) never blocks on a full pipe
/// while the agent does something else.
struct Child {
    let pid: pid_t
    /// The unlinked file holding the child's output.
    let outputFD: Int32

    /// How long a child killed with SIGKILL may take to be reaped.
    static let killGrace = 5.0
    /// At most this much output is kept.
    static let outputLimit = 1 << 20

    /// Waits at most `timeout` for the child to exit; then kills its process
    /// group and waits at most `killGrace` more. Never waits longer.
    func finish(timeout: Double) -> CommandResult {
        var status = reap(within: timeout)
        var result = CommandResult(output: "", timedOut: status == nil)
        if status == nil {
            Glibc.kill(-pid, SIGKILL)
            Glibc.kill(pid, SIGKILL)
            status = reap(within: Child.killGrace)
            result.unkillable = status == nil
        }
        result.output = collectOutput()
        if let status {
            if status & 0x7f != 0 { result.signal = status & 0x7f } else { result.exitStatus = (status >> 8) & 0xff }
        }
        return result
    }

    /// Whether the child is still running; it is not reaped (that is `finish`'s job).
    var isRunning: Bool {
        guard let stat = Sys.read("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(after: close)...].drop { $0 == " " }.first != "Z"
    }

    /// Sends SIGKILL to the child's group and reaps it (bounded).
    func kill() -> CommandResult { finish(timeout: 0) }

    /// Sends SIGINT to the child's group, as Ctrl-C would, so that it can
    /// print what it holds; SIGKILL after `grace` seconds.
    func interrupt(grace: Double) -> CommandResult {
        Glibc.kill(-pid, SIGINT)
        return finish(timeout: grace)
    }

    /// The wait status, or nil if the child did not exit within `seconds`.
    private func reap(within seconds: Double) -> Int32? {
        let deadline = Sys.now() + seconds
        var pause = 0.001
        while true {
            var status: Int32 = 0
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid { return status }
            if reaped < 0 && errno != EINTR { return 0x7f00 }  // not ours any more: report exit 127
            if Sys.now() >= deadline { return nil }
            Sys.sleep(seconds: pause)
            pause = min(pause * 2, 0.01)
        }
    }

    /// What the child has written so far; it runs on.
    func outputSoFar() -> String { readOutput() }

    private func collectOutput() -> String {
        defer { close(outputFD) }
        return readOutput()
    }

    private func readOutput() -> String {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        var offset = 0
        while data.count < Child.outputLimit {
            let count = pread(outputFD, &buffer, buffer.count, off_t(offset))
            if count <= 0 { break }
            data += buffer[0..<count]
            offset += count
        }
        let text = String(decoding: data.prefix(Child.outputLimit), as: UTF8.self)
        return data.count > Child.outputLimit ? text + "\n[output cut at \(Child.outputLimit) bytes]" : text
    }
}

/// Runs programs from PATH (busybox applets in the guest).
enum Command {
    /// Starts `argv` with stdin from /dev/null and its output captured; nil
    /// (with the errno) when it cannot be started.
    static func start(_ argv: [String], environment: [String]? = nil) -> Result<Child, Errno> {
        var template = Array("\(temporaryDirectory)/xtun-child-XXXXXX".utf8CString)
        let outputFD = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard outputFD >= 0 else { return .failure(.current) }
        _ = fcntl(outputFD, F_SETFD, FD_CLOEXEC)
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outputFD, 1)
        posix_spawn_file_actions_adddup2(&actions, outputFD, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Its own process group, so a timeout kills whatever it started too.
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)

        var cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var cEnvironment = environment.map { $0.map { strdup($0) } + [nil] }
        defer { cEnvironment?.forEach { free($0) } }
        var pid: pid_t = 0
        // posix_spawnp looks argv[0] up in the agent's PATH; the child gets `environment`.
        let status = cEnvironment == nil ? posix_spawnp(&pid, argv[0], &actions, &attributes, &cArgs, environ)
            : posix_spawnp(&pid, argv[0], &actions, &attributes, &cArgs, &cEnvironment!)
        guard status == 0 else {
            close(outputFD)
            return .failure(Errno(code: status))
        }
        return .success(Child(pid: pid, outputFD: outputFD))
    }

    /// Starts a command that must start; throws a check failure otherwise.
    static func mustStart(_ argv: [String], environment: [String]? = nil) throws -> Child {
        try start(argv, environment: environment).get(expected: "`\(argv.joined(separator: " "))` to start")
    }

    static func run(_ argv: [String], environment: [String]? = nil, timeout: Double = 20) -> CommandResult {
        switch start(argv, environment: environment) {
        case .success(let child): return child.finish(timeout: timeout)
        case .failure(let error):
            return CommandResult(exitStatus: 127, output: "cannot run \(argv[0]): \(error)", timedOut: false)
        }
    }

    /// Runs a command that must succeed.
    @discardableResult
    static func must(_ argv: [String], timeout: Double = 20) throws -> String {
        let result = run(argv, timeout: timeout)
        try require(result.succeeded, expected: "`\(argv.joined(separator: " "))` to succeed",
                    got: result.summary)
        return result.output
    }

    /// `$TMPDIR`, else /tmp: the guest's is a directory of the initramfs.
    static var temporaryDirectory: String {
        getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
    }
}

/// Programs of the host's Debian, from its root shared read-only at
/// /host (`HostShare`, whose mount script gave it the guest's /proc, /sys,
/// /dev and a writable /tmp and /run): busybox's chroot enters it and
/// looks the program up in Debian's PATH. The runner script the shell
/// offers (`/xtun/debian`) does the same with three more programs
/// (sh, grep, env), about 85 ms more per call under TCG.
enum Debian {
    /// The command line that runs `words` there. The program is looked up
    /// here: busybox's chroot would run its own applet of the same name
    /// (ip, tunctl…) before Debian's.
    static func argv(_ words: [String]) -> [String] {
        guard let program = words.first else { return [] }
        return ["chroot", GuestPaths.hostRoot, resolve(program)] + words.dropFirst()
    }

    /// Where `program` is in Debian's PATH, as the chroot sees it; the name itself if nowhere.
    static func resolve(_ program: String) -> String {
        if program.contains("/") { return program }
        for directory in GuestPaths.debianPath.split(separator: ":") {
            let path = "\(directory)/\(program)"
            if access(GuestPaths.hostRoot + path, X_OK) == 0 { return path }
        }
        return program
    }

    /// The agent's environment with Debian's PATH.
    static var environment: [String] {
        var entries: [String] = []
        var cursor = environ
        while let entry = cursor.pointee {
            let text = String(cString: entry)
            if !text.hasPrefix("PATH=") { entries.append(text) }
            cursor += 1
        }
        return entries + ["PATH=\(GuestPaths.debianPath)"]
    }

    static func run(_ words: [String], timeout: Double = 20) -> CommandResult {
        Command.run(argv(words), environment: environment, timeout: timeout)
    }

    static func start(_ words: [String]) throws -> Child {
        try Command.mustStart(argv(words), environment: environment)
    }
}
