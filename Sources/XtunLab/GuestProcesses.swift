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

    func started(_ pid: pid_t) { lock.withLock { _ = pids.insert(pid) } }
    func ended(_ pid: pid_t) { lock.withLock { _ = pids.remove(pid) } }

    /// The guests still running.
    public var running: Set<pid_t> { lock.withLock { pids } }

    /// SIGKILLs every guest still running.
    public func killAll() {
        for pid in running { kill(pid, SIGKILL) }
    }

    /// On SIGINT, SIGTERM or SIGHUP: kill every guest, run `cleanup` (put the
    /// terminal back), and exit with 128 + the signal, as the shell expects.
    public func stopOnSignals(cleanup: @escaping @Sendable () -> Void = {}) {
        lock.withLock {
            for signal in [SIGINT, SIGTERM, SIGHUP] {
                Foundation.signal(signal, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: signal, queue: .global())
                source.setEventHandler { [self] in
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
