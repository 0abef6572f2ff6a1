// Stage 03: transmit into /dev/xtun (book/03-tx.md).

extension Expectation {
    public static let initUnwindsWithDevice = Expectation(
        "init-unwinds-device",
        "every slab allocation of init, misc_register()'s now among them, failed in turn, leaves nothing behind",
        chapter: .stage03, anchor: "loading-and-unloading",
        requirement: .debugKernel(because: "it needs fault injection: --kernel debug"))
    public static let charDevice = Expectation(
        "char-device", "/dev/xtun is a misc character device (major 10)",
        chapter: .stage03, anchor: "misc-device")
    public static let readUdpExact = Expectation(
        "read-udp-exact",
        "a UDP datagram sent to 10.99.0.2 is read back from /dev/xtun byte for byte",
        chapter: .stage03, anchor: "reading-a-frame")
    public static let readFrameBoundaries = Expectation(
        "read-frame-boundaries", "each read() returns exactly one whole frame",
        chapter: .stage03, anchor: "reading-a-frame")
    public static let nonblockEagain = Expectation(
        "nonblock-eagain", "an O_NONBLOCK read on an empty queue fails with EAGAIN",
        chapter: .stage03, anchor: "blocking")
    public static let blockedReaderWakes = Expectation(
        "blocked-reader-wakes", "a read() blocked on an empty queue wakes when a frame is sent",
        chapter: .stage03, anchor: "blocking")
    public static let pollReadiness = Expectation(
        "poll-readiness", "poll and epoll report POLLIN exactly when a frame is queued",
        chapter: .stage03, anchor: "poll")
    public static let shortReadTruncates = Expectation(
        "short-read-truncates",
        "a read buffer shorter than the frame gets the frame's first bytes; the rest is dropped (as tun)",
        chapter: .stage03, anchor: "short-reads")
    public static let secondOpenBusy = Expectation(
        "second-open-busy", "a second open() of /dev/xtun fails with EBUSY; after close it opens again",
        chapter: .stage03, anchor: "one-reader")
    public static let closedDrops = Expectation(
        "closed-drops", "while /dev/xtun is closed, transmitted frames are dropped and counted in tx_dropped",
        chapter: .stage03, anchor: "one-reader")
    public static let overflowBounded = Expectation(
        "overflow-bounded",
        "with nobody reading, frames beyond tx_queue_len are dropped and counted; a reader drains exactly tx_queue_len",
        chapter: .stage03, anchor: "bounded-queue")
    public static let closeFreesQueue = Expectation(
        "close-frees-queue", "closing /dev/xtun frees the frames still queued and counts them as dropped",
        chapter: .stage03, anchor: "bounded-queue")
    public static let zerocopyReleased = Expectation(
        "zerocopy-released",
        "a MSG_ZEROCOPY send completes while its frame still waits in the queue: xtun copied the sender's pages (as tun)",
        chapter: .stage03, anchor: "transmit-orphan-then-queue")
    public static let netconsoleOut = Expectation(
        "netconsole",
        "netconsole bound to xtun sends kernel messages out through /dev/xtun, from process and interrupt context, "
            + "without a lock problem",
        chapter: .stage03, anchor: "netpoll",
        requirement: .debugKernel(because: "it needs the debug kernel's netconsole and lockdep: --kernel debug"))
    public static let unloadBusyWhileOpen = Expectation(
        "unload-busy-while-open",
        "rmmod is refused while /dev/xtun is open, and works after close",
        chapter: .stage03, anchor: "module-reference")
    public static let blockedReaderExits = Expectation(
        "blocked-reader-exits",
        "a reader blocked in read() is killed cleanly; close and unload then work",
        chapter: .stage03, anchor: "module-reference")
}

extension Pitfall {
    public static let emptyHeaderOps = Pitfall(
        name: "empty-header-ops", stage: .stage03,
        summary: "header_ops replaced by an empty struct after ether_setup: frames leave without an Ethernet header",
        anchor: "pitfall-empty-header-ops",
        caughtBy: [.readUdpExact])
}

extension Pitfall {
    public static let keepZerocopy = Pitfall(
        name: "keep-zerocopy", stage: .stage03,
        summary: "ndo_start_xmit queues a zerocopy frame without skb_orphan_frags_rx(): the sender's send stays "
            + "incomplete until a reader reads it",
        anchor: "pitfall-keep-zerocopy",
        caughtBy: [.zerocopyReleased])
    public static let irqUnsafeLock = Pitfall(
        name: "irq-unsafe-lock", stage: .stage03,
        summary: "the queue's lock taken with spin_lock()/spin_lock_bh(): netconsole's transmit from a hard "
            + "interrupt can deadlock, and lockdep says so",
        anchor: "pitfall-irq-unsafe-lock",
        caughtBy: [.netconsoleOut, .kernelLogClean], needsDebugKernel: true)
    public static let unpurgedQueue = Pitfall(
        name: "unpurged-queue", stage: .stage03,
        summary: "release() takes the unread frames off the queue and counts them dropped, but never frees them",
        anchor: "pitfall-unpurged-queue",
        caughtBy: [.noLeaks])
}

extension Suite {
    /// What a reader of /dev/xtun sees: stage 03 on.
    static let transmitToReader: [Expectation] = [
        .charDevice, .readUdpExact, .readFrameBoundaries, .nonblockEagain,
        .blockedReaderWakes, .pollReadiness, .shortReadTruncates, .secondOpenBusy,
        .closedDrops, .overflowBounded, .closeFreesQueue, .zerocopyReleased, .netconsoleOut,
        .unloadBusyWhileOpen,
        .blockedReaderExits,
    ]

    static let stage03 = Suite(stage: .stage03, expectations:
        loadAndInspect + [.upDownRepeat]
        + transmitToReader
        + [.unloads, .reloads, .initUnwindsWithDevice, .noLeaks]
        + [.kernelLogClean])
}
