import Foundation

/// A host program started with `posix_spawnp` and reaped with `waitpid`.
///
/// Not Foundation's `Process`: on Linux it learns that a child has ended
/// when a socket it hands the child is closed, and every descendant inherits
/// that socket. A child that leaves a daemon behind (the first
/// `tmux new-session` starts tmux's server) is never seen to end, and
/// `waitUntilExit()` waits forever (swift-corelibs-foundation issue 4795).
/// That hung a CI run. `waitpid` on the child's own pid cannot be fooled.
struct Spawned {
    let pid: pid_t
    /// The read end of the child's stdout and stderr, when they were captured.
    let output: Int32?

    /// How the child's stdin, stdout and stderr are connected.
    enum Streams {
        /// stdin from /dev/null; stdout and stderr into one pipe (`output`).
        case captured
        /// All three are this process's own: the terminal, for QEMU's console.
        case inherited
        /// All three are /dev/null.
        case discarded
    }

    /// Starts `arguments[0]`, looked up in PATH. The signals check-step
    /// ignores while it watches (SIGINT, SIGTERM, SIGHUP) are back to their
    /// defaults in the child, and no signal is blocked there. With
    /// `ownProcessGroup`, the child leads a process group of its own, so a
    /// Ctrl-C typed at the terminal reaches this process and not the child.
    static func start(_ arguments: [String], in directory: URL? = nil,
                      environment: [String: String]? = nil, streams: Streams = .captured,
                      ownProcessGroup: Bool = false) throws -> Spawned {
        precondition(!arguments.isEmpty, "nothing to run")
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        posix_spawnattr_setsigmask(&attributes, &unblocked)
        var flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK
        if ownProcessGroup {
            posix_spawnattr_setpgroup(&attributes, 0)
            flags |= POSIX_SPAWN_SETPGROUP
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // Swift's Glibc leaves out pipe2() and posix_spawn_file_actions_addchdir_np():
        // the pipe is made close-on-exec under a lock every spawn here takes,
        // so no child started meanwhile holds its write end open (its reader
        // would never see EOF), and env(1) changes the directory.
        spawning.lock()
        defer { spawning.unlock() }
        var ends: [Int32] = [-1, -1]
        if streams == .captured {
            guard pipe(&ends) == 0 else {
                throw LabError.environment("cannot make a pipe for \(arguments[0]): \(String(cString: strerror(errno)))")
            }
            _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_adddup2(&actions, ends[1], 1)
            posix_spawn_file_actions_adddup2(&actions, ends[1], 2)
        }
        if streams == .discarded {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        }
        let command = directory.map { ["/usr/bin/env", "-C", $0.path, "--"] + arguments } ?? arguments

        let merged = ProcessInfo.processInfo.environment.merging(environment ?? [:]) { $1 }
        var argv = command.map { strdup($0) } + [nil]
        var envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let status = posix_spawnp(&pid, command[0], &actions, &attributes, &argv, &envp)
        if ends[1] >= 0 { close(ends[1]) }
        guard status == 0 else {
            if ends[0] >= 0 { close(ends[0]) }
            throw LabError.environment("cannot run \(arguments[0]): \(String(cString: strerror(status)))")
        }
        return Spawned(pid: pid, output: ends[0] >= 0 ? ends[0] : nil)
    }

    private static let spawning = NSLock()

    /// Reads the captured output until every writer has closed it (`onChunk`
    /// for each piece as it comes), then closes it.
    func readOutput(_ onChunk: (ArraySlice<UInt8>) -> Void) {
        guard let output else { return }
        defer { close(output) }
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = read(output, &buffer, buffer.count)
            if count < 0, errno == EINTR { continue }
            if count <= 0 { return }
            onChunk(buffer[0..<count])
        }
    }

    /// Waits for the child to end: its exit status, or 128 + the signal that
    /// killed it, as a shell reports it.
    func wait() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return -1 }
        }
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }
}
