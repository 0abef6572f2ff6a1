// Stage 03: transmit into /dev/xtun (book/03-tx.md).

extension Expectation {
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

extension Suite {
    /// What a reader of /dev/xtun sees: stage 03 on.
    static let transmitToReader: [Expectation] = [
        .charDevice, .readUdpExact, .readFrameBoundaries, .nonblockEagain,
        .blockedReaderWakes, .pollReadiness, .shortReadTruncates, .secondOpenBusy,
        .closedDrops, .overflowBounded, .closeFreesQueue, .unloadBusyWhileOpen,
        .blockedReaderExits,
    ]

    static let stage03 = Suite(stage: .stage03, expectations:
        loadAndInspect + [.upDownRepeat]
        + transmitToReader
        + unloadAndReload
        + [.kernelLogClean])
}
