// Stage 04: receive from /dev/xtun (book/04-rx.md).

extension Expectation {
    public static let arpReply = Expectation(
        "arp-reply", "an ARP request for 10.99.0.1 written to /dev/xtun is answered with a correct ARP reply",
        chapter: .stage04, anchor: "arp")
    public static let icmpEchoReply = Expectation(
        "icmp-echo-reply",
        "an ICMP echo request written from 10.99.0.2 gets a reply with the same id, sequence and payload",
        chapter: .stage04, anchor: "ping-through-the-device")
    public static let udpDelivered = Expectation(
        "udp-delivered", "a UDP datagram written to /dev/xtun arrives intact at a socket on 10.99.0.1",
        chapter: .stage04, anchor: "udp")
    public static let rxClassification = Expectation(
        "rx-classification",
        "eth_type_trans() classifies what comes in: a frame for another host's MAC is dropped unanswered, "
            + "broadcast and multicast are seen as such, and the counters say what arrived",
        chapter: .stage04, anchor: "classification")
    public static let badWritesRejected = Expectation(
        "bad-writes", "bad writes get the documented errno and are counted, never injected",
        chapter: .stage04, anchor: "bad-writes")
    public static let pollWritable = Expectation(
        "poll-writable", "poll reports POLLOUT: a write() never waits",
        chapter: .stage04, anchor: "writing-a-frame")
    public static let concurrentReadWrite = Expectation(
        "concurrent-rw", "4 writers and a reader at once: every frame arrives, nothing is lost",
        chapter: .stage04, anchor: "concurrency")
}

extension Pitfall {
    public static let noarp = Pitfall(
        name: "noarp", stage: .stage04,
        summary: "dev->flags = IFF_NOARP copied from snull: arp_rcv() drops every ARP request",
        anchor: "pitfall-noarp",
        caughtBy: [.arpReply])
}

extension Suite {
    /// What a writer of /dev/xtun sees: stage 04 on.
    static let receiveFromWriter: [Expectation] = [
        .pollWritable, .arpReply, .icmpEchoReply, .udpDelivered, .rxClassification,
        .badWritesRejected, .concurrentReadWrite,
    ]

    static let stage04 = Suite(stage: .stage04, expectations:
        loadAndInspect + [.upDownRepeat]
        + transmitToReader
        + receiveFromWriter
        + unloadAndReload
        + [.kernelLogClean])
}
