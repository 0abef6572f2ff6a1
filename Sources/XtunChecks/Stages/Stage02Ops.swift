// Stage 02: open, stop and a transmit that counts and frees (book/02-ops.md).

extension Expectation {
    public static let upDownRepeat = Expectation(
        "up-down", "ip link set xtun up/down works 3 times, calling ndo_open and ndo_stop",
        chapter: .stage02, anchor: "open-stop")
    public static let pingSendsArp = Expectation(
        "ping-sends-arp",
        "ping -c 1 10.99.0.2 with no neighbour transmits 3 ARP requests (3 x 42 bytes) and no ICMP",
        chapter: .stage02, anchor: "what-ping-sends")
    public static let pingSendsIcmp = Expectation(
        "ping-sends-icmp",
        "ping -c 4 10.99.0.2 with a known neighbour transmits 4 ICMP echo requests (4 x 98 bytes)",
        chapter: .stage02, anchor: "what-ping-sends")
    public static let sustainedTraffic = Expectation(
        "sustained-traffic",
        "10,000 ICMP echo requests on ping's raw-socket path never fail with ENOBUFS; tx counters account for each",
        chapter: .stage02, anchor: "freeing-the-skb")
    public static let unloadWhileUp = Expectation(
        "unload-while-up", "rmmod while xtun is up and transmitting works",
        chapter: .stage02, anchor: "unload-while-up")
}

extension Pitfall {
    public static let leakSkb = Pitfall(
        name: "leak-skb", stage: .stage02,
        summary: "ndo_start_xmit never frees the skb: the sender's buffer fills and sends fail with ENOBUFS",
        anchor: "pitfall-leak-skb",
        caughtBy: [.sustainedTraffic, .noLeaks])
}

extension Suite {
    static let stage02 = Suite(stage: .stage02, expectations:
        loadAndInspect
        + [.upDownRepeat, .pingSendsArp, .pingSendsIcmp, .sustainedTraffic, .unloadWhileUp]
        + unloadAndReload
        + [.kernelLogClean])
}
