import CLinux
import Glibc

/// failslab with fail-nth (the debug kernel's CONFIG_FAILSLAB): makes the
/// Nth slab allocation a thread makes fail, to walk a module's error paths
/// one allocation at a time.
enum FaultInjection {
    static let failslab = "/sys/kernel/debug/failslab"

    static var isAvailable: Bool { Sys.exists("\(failslab)/ignore-gfp-wait") }

    /// What one load with one failing allocation did.
    struct Load {
        /// The failure happened (the load made at least N allocations).
        let injected: Bool
        /// finit_module()'s errno; nil when the load succeeded anyway.
        let error: Errno?
    }

    /// failslab ignores GFP_KERNEL allocations unless told, and prints a
    /// stack for each failure it injects when verbose is 2, at most 10 in
    /// 5 s unless the rate limit is off (interval 0). kmemleak's own
    /// allocations for the load count too; when one fails, kmemleak falls
    /// back on its memory pool, or scans a whole object and says so once.
    static func prepare() throws {
        try Sys.write("N", to: "\(failslab)/ignore-gfp-wait")
        try Sys.write("2", to: "\(failslab)/verbose")
        try Sys.write("0", to: "\(failslab)/verbose_ratelimit_interval_ms")
    }

    /// Loads `module` with its `n`th slab allocation failing. Runs the
    /// load on the calling thread (fail-nth is per thread).
    static func load(_ module: String, failing n: Int) throws -> Load {
        let moduleFD = open(module, O_RDONLY | O_CLOEXEC)
        let openError = Errno.current
        try require(moduleFD >= 0, expected: "to open \(module)", got: "\(openError)")
        defer { close(moduleFD) }
        let nthFD = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC)
        let nthError = Errno.current
        try require(nthFD >= 0, expected: "/proc/thread-self/fail-nth", got: "\(nthError)")
        defer { close(nthFD) }
        var injected: Int32 = 0, error: Int32 = 0
        let result = xtun_load_failing(moduleFD, nthFD, UInt32(n), &injected, &error)
        try require(result != -2, expected: "to write fail-nth", got: "\(Errno(code: error))")
        return Load(injected: injected != 0, error: result == 0 ? nil : Errno(code: error))
    }
}
