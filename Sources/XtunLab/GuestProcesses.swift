import Foundation

/// The QEMU processes this program started and has not reaped yet: the one
/// piece of process-wide state, because a signal must be able to stop them
/// all. `check-step` kills them on SIGINT, SIGTERM and SIGHUP
/// (`stopOnSignals()`), so no guest outlives the run that started it.
public final class GuestProcesses: @unchecked Sendable {
    public static let shared = GuestProcesses()

    private let lock = NSLock()
    private var pids: Set<pid_t> = []
    private var sources: [DispatchSourceSignal] = []
    /// A stop signal arrived: its handler is killing the guests and will exit.
    private var stopping = false

    func started(_ pid: pid_t) { lock.withLock { _ = pids.insert(pid) } }
    func ended(_ pid: pid_t) { lock.withLock { _ = pids.remove(pid) } }

    /// The guests still running.
    public var running: Set<pid_t> { lock.withLock { pids } }

    /// SIGKILLs every guest still running, and reaps them: a SIGKILLed QEMU
    /// takes a while to go (it unmaps its guest's memory), and none may be
    /// left when this process exits. (If the thread that started a guest
    /// reaps it first, waitpid says ECHILD: gone too.)
    public func killAll(waiting seconds: Double = 5) {
        let guests = running
        for pid in guests { kill(pid, SIGKILL) }
        let deadline = Date().addingTimeInterval(seconds)
        for pid in guests {
            var status: Int32 = 0
            while Date() < deadline {
                let reaped = waitpid(pid, &status, WNOHANG)
                if reaped == pid || (reaped < 0 && errno == ECHILD) { break }
                usleep(10_000)
            }
        }
    }

    /// Exits with `status`, unless a stop signal is being handled: then its
    /// handler exits, with 128 + the signal, once the guests are gone. (The
    /// guest a signal killed ends the run too, and the run must not win.)
    public func exit(_ status: Int32) -> Never {
        if lock.withLock({ stopping }) {
            while true { sleep(60) }
        }
        Foundation.exit(status)
    }

    /// On SIGINT, SIGTERM or SIGHUP: kill every guest, run `cleanup` (put the
    /// terminal back), and exit with 128 + the signal, as the shell expects.
    public func stopOnSignals(cleanup: @escaping @Sendable () -> Void = {}) {
        lock.withLock {
            for signal in [SIGINT, SIGTERM, SIGHUP] {
                Foundation.signal(signal, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: signal, queue: .global())
                source.setEventHandler { [self] in
                    lock.withLock { stopping = true }
                    killAll()
                    cleanup()
                    Foundation.exit(128 + signal)
                }
                source.resume()
                sources.append(source)
            }
        }
    }
}
