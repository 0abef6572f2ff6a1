// Stage 05: test and tune (book/05-test.md).

extension Expectation {
    public static let echoProgram = Expectation(
        "echo-program",
        "xtun_test (steps/05-test/xtun_test.c) writes back every frame it reads while ping -I xtun runs, "
            + "and xtun's counters agree with it",
        chapter: .stage05, anchor: "the-echo-program")
    public static let echoedARPConsumed = Expectation(
        "echoed-arp-consumed",
        "the kernel's account of the echo: each echoed ARP request is consumed by arp_process(), not dropped, "
            + "and ping's requests are freed with SKB_DROP_REASON_NEIGH_FAILED",
        chapter: .stage05, anchor: "where-the-echo-ends")
    public static let echoedICMPDropped = Expectation(
        "echoed-icmp-dropped",
        "with 10.99.0.2's neighbour entry set, each echoed ICMP request is dropped on the way into IPv4 "
            + "with SKB_DROP_REASON_OTHERHOST",
        chapter: .stage05, anchor: "the-echo-with-a-neighbour")
    public static let responderPing = Expectation(
        "responder-ping",
        "through a userspace responder on /dev/xtun, ping -I xtun -c 20 10.99.0.2 gets 20 replies of 20 "
            + "and 10.99.0.2's neighbour entry is REACHABLE",
        chapter: .stage05, anchor: "a-userspace-responder",
        heldSince: .stage04)
    public static let responderUDP = Expectation(
        "responder-udp",
        "UDP datagrams of 1, 512 and 1472 bytes sent to the responder's echo service come back byte-exact",
        chapter: .stage05, anchor: "a-userspace-responder",
        heldSince: .stage04)
    public static let queueFlowControl = Expectation(
        "queue-flow-control",
        "a sender faster than the reader is held back, not dropped: the frame that fills the queue stops the "
            + "stack's tx queue, and a read that brings it to half wakes it",
        chapter: .stage05, anchor: "flow-control")
}

extension Pitfall {
    public static let noWake = Pitfall(
        name: "no-wake", stage: .stage05,
        summary: "the full queue stops the tx queue but no read wakes it: the interface sends nothing more "
            + "until /dev/xtun is closed",
        anchor: "pitfall-no-wake",
        caughtBy: [.queueFlowControl])
}

extension Suite {
    /// The echo program and the responder use stage 04's driver as it is;
    /// the tuned driver holds a fast sender back where stage 03's dropped.
    static let stage05 = Suite(stage: .stage05, expectations:
        loadAndInspect + [.upDownRepeat]
        + transmitToReader.map { $0 == .overflowBounded ? .queueFlowControl : $0 }
        + receiveFromWriter
        + [.echoProgram, .echoedARPConsumed, .echoedICMPDropped, .responderPing, .responderUDP]
        + unloadAndReload
        + [.kernelLogClean])
}
