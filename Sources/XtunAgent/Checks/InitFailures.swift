import XtunChecks

/// Walks a module's init error paths with fail-nth: fails each slab
/// allocation the module's init makes, in turn. Where init begins is found
/// by bisection, with ftrace watching for xtun's first call
/// (alloc_netdev_mqs()): the allocations before it are the module loader's.
/// Where it ends: fail-nth counts the allocations of insmod's own task, in
/// order: the loader's, then init's, every one with init's frame on its
/// stack, then the loader's again. So once a failure's stack has shown a
/// frame of the module, the first stack without one is the loader's, after
/// init returned, and the walk stops there. (A failure bisection places
/// early may be a loader allocation the load survives; and allocations with
/// __GFP_NOWARN fail without printing a stack: the walk goes on past both.)
struct InitFailures {
    let session: Session
    /// The first function the module's init calls.
    var firstCall = "alloc_netdev_mqs"
    /// A kernel function init must call, that the walk must fail an
    /// allocation inside (stage 03: misc_register()); nil for none.
    var mustReach: String?

    /// What the walk found.
    struct Walk {
        /// The first allocation made once init began, and how many were failed from there.
        var first = 0, count = 0
        /// The first allocation after init returned, where the walk stopped.
        var afterInit: Int?
        /// Loads that failed, by errno, and loads that went on anyway
        /// (a failure the kernel tolerates, often silently: __GFP_NOWARN).
        var failedWith: [String: Int] = [:]
        var tolerated = 0
        /// Injected failures by the module function in their stack (those with a stack).
        var byFunction: [String: Int] = [:]
        /// Injected failures whose stack shows `mustReach`.
        var reached = 0
        var wrong: [String] = []

        var summary: String {
            let errors = failedWith.sorted { $0.key < $1.key }.map { "\($0.value) with \($0.key)" }
            let functions = byFunction.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            let end = afterInit.map { ", up to the loader's \($0)" } ?? ""
            return "allocations \(first)...\(first + count - 1) of insmod (xtun's init\(end)) failed in turn"
                + (functions.isEmpty ? "" : " (under " + functions.joined(separator: ", ") + ")")
                + ": insmod failed " + (errors.isEmpty ? "never" : errors.joined(separator: ", "))
                + ", went on \(tolerated) times; each left nothing behind, and insmod works"
        }
    }

    /// One load with allocation `n` failing: whether it was injected, whether
    /// the module's init began, and what the kernel logged.
    func inject(_ n: Int, tracer: FunctionTracer) throws -> (load: FaultInjection.Load, initBegan: Bool,
                                                              log: ArraySlice<String>) {
        tracer.clear()
        let before = session.log.mark
        let load = try FaultInjection.load(session.module.path, failing: n)
        let initBegan = tracer.sawCall
        if load.error == nil {
            let unload = session.module.unload()
            try require(unload.succeeded, expected: "rmmod after a load that went on", got: unload.summary)
        }
        return (load, initBegan, session.log.since(before))
    }

    /// The check: walks init's allocations, then requires that nothing went
    /// wrong, the log has no alarm but the provoked stacks, and the next
    /// insmod works.
    func check() throws -> String {
        if session.module.isLoaded { _ = session.module.unload() }
        try FaultInjection.prepare()
        // Each injected failure prints its stack; only to the log, not
        // the slow serial console (printk's console level to 1 meanwhile).
        let printk = Sys.read("/proc/sys/kernel/printk")?.split(separator: "\t").first.map(String.init) ?? "8"
        try Sys.write("1", to: "/proc/sys/kernel/printk")
        defer { try? Sys.write(printk, to: "/proc/sys/kernel/printk") }
        let mark = session.log.mark
        defer { session.provokedStacks.append(mark..<session.log.mark) }
        SlabUsers.releaseHeldBack()
        let before = SlabUsers.read()
        var walk = try walk()
        walk.wrong += leftovers(since: before)
        if let mustReach {
            try require(walk.reached > 0, expected: "init to call \(mustReach)() and a failure inside it",
                        got: "no injected failure had \(mustReach)() on its stack: \(walk.summary)")
        }
        let problems = KernelLog(lines: Array(session.log.since(mark))).allowingProvoked(in: 0..<Int.max)
        try require(walk.wrong.isEmpty && problems.firstAlarm == nil,
                    expected: "every failed allocation to unwind cleanly",
                    got: (walk.wrong + problems.alarmExcerpt(limit: 14)).joined(separator: "\n"))
        let load = session.module.load()
        try require(load.succeeded, expected: "the next insmod to work", got: load.summary)
        _ = session.module.unload()
        return walk.summary + (mustReach.map { "; \(walk.reached) of the failures inside \($0)()" } ?? "")
    }

    /// What the failed loads left allocated, by allocation stack: a frame
    /// there without a symbol is the module's, unloaded since. (Read once,
    /// after the walk: reading every cache's stacks after each load would
    /// take longer than the walk.)
    func leftovers(since before: SlabUsers?) -> [String] {
        guard let before else { return [] }
        let after = SlabUsers.settled { $0.fromUnloadedModules(beyond: before).isEmpty }
        let left = after?.fromUnloadedModules(beyond: before) ?? []
        return left.prefix(4).map { "after the walk, " + SlabUsers.describe($0) + ": an error path did not free it" }
    }

    func walk(limit: Int = 5000) throws -> Walk {
        let tracer = try FunctionTracer(function: firstCall)
        defer { tracer.stop() }
        // Where init begins: the first n whose load reaches it (or makes fewer than n allocations).
        let reaches = { (n: Int) throws -> Bool in
            let result = try self.inject(n, tracer: tracer)
            return !result.load.injected || result.initBegan
        }
        var low = 0, high = 1
        while try !reaches(high) {
            low = high
            high *= 2
            try require(high <= limit, expected: "an insmod of at most \(limit) allocations", got: "more")
        }
        while high - low > 1 {
            let middle = (low + high) / 2
            if try reaches(middle) { high = middle } else { low = middle }
        }
        var walk = Walk(first: high)
        var n = high
        var insideInit = false
        while n <= limit {
            let (load, _, log) = try inject(n, tracer: tracer)
            guard load.injected else { break }
            walk.count += 1
            // A frame marked "?" is a stale address the unwinder found on the stack, not a caller.
            let frame = log.first { $0.contains(" [\(session.module.name)]") && Self.function($0) != nil }
            if frame != nil { insideInit = true }
            if insideInit, frame == nil, log.contains(where: { $0.contains("Call Trace:") }), load.error == nil {
                walk.count -= 1
                walk.afterInit = n
                break
            }
            if let function = frame.flatMap(Self.function) { walk.byFunction[function, default: 0] += 1 }
            if let mustReach, log.contains(where: { Self.function($0) == mustReach }) { walk.reached += 1 }
            if let error = load.error {
                walk.failedWith[Errno.names[error.code] ?? "\(error.code)", default: 0] += 1
                for (what, path) in [("the module", "/sys/module/\(session.module.name)"),
                                     ("the interface", session.interface.directory),
                                     ("the device", DriverNames.characterDevice)] where Sys.exists(path) {
                    walk.wrong.append("allocation \(n) failed, insmod said \(error), but \(what) is still there")
                }
            } else {
                walk.tolerated += 1
            }
            if let fatal = KernelLog(lines: Array(log)).firstFatal {
                walk.wrong.append("allocation \(n) failed: \(fatal)")
            }
            if !walk.wrong.isEmpty { break }
            n += 1
        }
        try require(walk.count > 0, expected: "fail-nth to fail an allocation of xtun's init", got: "none failed")
        return walk
    }

    /// "[   33.4]  xtun_net_create+0x47/0x80 [xtun]" → "xtun_net_create";
    /// nil for an unreliable frame ("[   33.4]  ? xtun_chr_read_iter+0x1c2/0x480 [xtun]").
    static func function(_ frame: String) -> String? {
        let text = frame.split(separator: "]", maxSplits: 1).last.map { $0.drop { $0 == " " } } ?? ""
        guard !text.hasPrefix("?") else { return nil }
        let name = text.prefix { $0 != "+" && $0 != " " }
        return name.isEmpty ? nil : String(name)
    }
}

/// ftrace's function tracer on one function: whether it was called since the last `clear()`.
struct FunctionTracer {
    let function: String

    init(function: String) throws {
        self.function = function
        try Tracefs.mount()
        try Tracefs.write(function, "set_ftrace_filter", truncating: true)
        try Tracefs.write("function", "current_tracer")
        try Tracefs.write("1", "tracing_on")
    }

    func clear() { try? Tracefs.write("", "trace", truncating: true) }

    var sawCall: Bool { Sys.read("\(Tracefs.path)/trace")?.contains(" \(function) <-") ?? false }

    func stop() {
        try? Tracefs.write("nop", "current_tracer")
        try? Tracefs.write("", "set_ftrace_filter", truncating: true)
    }
}
