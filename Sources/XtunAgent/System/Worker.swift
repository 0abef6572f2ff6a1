import Glibc

/// What a new thread runs; passed through pthread_create's argument.
private final class ThreadStart {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}

private func threadEntry(_ argument: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    Unmanaged<ThreadStart>.fromOpaque(argument!).takeRetainedValue().body()
    return nil
}

/// A thread running a closure. `join(timeout:)` waits a bounded time: a
/// thread blocked in the kernel by a broken driver must not hang the agent.
final class Worker<Result>: @unchecked Sendable {
    private var thread = pthread_t()
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let finished = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Guarded by `mutex`.
    private var result: Result?

    init(_ body: @escaping () -> Result) {
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(finished, &attributes)
        pthread_condattr_destroy(&attributes)
        let start = ThreadStart {
            let value = body()
            pthread_mutex_lock(self.mutex)
            self.result = value
            pthread_cond_broadcast(self.finished)
            pthread_mutex_unlock(self.mutex)
        }
        let status = pthread_create(&thread, nil, threadEntry, Unmanaged.passRetained(start).toOpaque())
        precondition(status == 0, "pthread_create failed")
        pthread_detach(thread)
    }

    deinit {
        // Runs only after the thread's closure let go of self: it has finished.
        pthread_cond_destroy(finished)
        pthread_mutex_destroy(mutex)
        finished.deallocate()
        mutex.deallocate()
    }

    /// The closure's result, or nil if it did not finish within `timeout`
    /// seconds (the thread then runs on, detached).
    func join(timeout: Double) -> Result? {
        var deadline = timespec()
        clock_gettime(CLOCK_MONOTONIC, &deadline)
        let nanoseconds = Int(deadline.tv_nsec) + Int(max(timeout, 0) * 1e9)
        deadline.tv_sec += nanoseconds / 1_000_000_000
        deadline.tv_nsec = nanoseconds % 1_000_000_000
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while result == nil {
            if pthread_cond_timedwait(finished, mutex, &deadline) == ETIMEDOUT { break }
        }
        return result
    }

    /// The result, or a check failure saying what was still blocked.
    func mustJoin(timeout: Double, _ what: @autoclosure () -> String) throws -> Result {
        guard let value = join(timeout: timeout) else {
            throw Failure(expected: "\(what()) to finish within \(seconds(timeout))",
                          got: "still blocked after \(seconds(timeout))")
        }
        return value
    }
}

/// Runs `body` on a thread and waits at most `timeout`: for a system call
/// that a broken driver could block forever.
func bounded<T>(_ timeout: Double, _ what: @autoclosure () -> String, _ body: @escaping () -> T) throws -> T {
    try Worker(body).mustJoin(timeout: timeout, what())
}
