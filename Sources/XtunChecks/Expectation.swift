/// Where an expectation is decided.
public enum Evaluator: String, Sendable, Codable {
    /// On the host: building the module, reading the guest's console.
    case host
    /// In the booted kernel, by `xtun-agent`.
    case guest
}

/// One named thing a stage must do, checked in a real kernel. The same
/// vocabulary names checks run by the host and by the guest agent.
public struct Expectation: Sendable, Hashable, Identifiable, CustomStringConvertible {
    /// Stable kebab-case name: `mtu-1500`.
    public let id: String
    /// What is verified, as printed after PASS or FAIL.
    public let summary: String
    /// The chapter that explains it.
    public let chapter: Stage
    /// Section anchor in that chapter.
    public let anchor: String
    public let evaluator: Evaluator

    public init(_ id: String, _ summary: String, chapter: Int, anchor: String,
                evaluator: Evaluator = .guest) {
        self.id = id
        self.summary = summary
        self.chapter = Stage.numbered(chapter)!
        self.anchor = anchor
        self.evaluator = evaluator
    }

    /// `book/01-init.md#anchor`
    public var hint: String { "book/\(chapter.slug).md#\(anchor)" }

    public var description: String { id }

    public static func == (lhs: Expectation, rhs: Expectation) -> Bool { lhs.id == rhs.id }
    public func hash(into hasher: inout Hasher) { hasher.combine(id) }
}

// MARK: - Stage 01: allocate and register

extension Expectation {
    public static let buildsClean = Expectation(
        "builds-clean", "the module builds with W=1 and no warnings",
        chapter: 1, anchor: "building", evaluator: .host)
    public static let loads = Expectation(
        "loads", "insmod xtun.ko succeeds", chapter: 1, anchor: "loading")
    public static let registered = Expectation(
        "registered", "xtun appears in /sys/class/net", chapter: 1, anchor: "loading")
    public static let typeEther = Expectation(
        "type-ether", "xtun is an Ethernet device (type 1, ARPHRD_ETHER)",
        chapter: 1, anchor: "ether-setup")
    public static let macValid = Expectation(
        "mac-valid", "xtun has a valid unicast, non-zero MAC address",
        chapter: 1, anchor: "mac-address")
    public static let mtu1500 = Expectation(
        "mtu-1500", "xtun has MTU 1500", chapter: 1, anchor: "ether-setup")
    public static let downAfterLoad = Expectation(
        "down-after-load", "xtun is down after loading", chapter: 1, anchor: "loading")
    public static let upWithoutOpen = Expectation(
        "up-without-ndo-open",
        "ip link set xtun up succeeds without .ndo_open (IPv6 off: nothing is sent)",
        chapter: 1, anchor: "up-without-ndo-open")
    public static let unloads = Expectation(
        "unloads", "rmmod xtun removes the interface", chapter: 1, anchor: "unloading")
    public static let reloads = Expectation(
        "reloads", "load and unload work twice more", chapter: 1, anchor: "unloading")
    public static let kernelLogClean = Expectation(
        "kernel-log-clean", "the kernel log has no WARN, BUG, Oops, refcount or leak report",
        chapter: 1, anchor: "health")
    public static let transmitWithoutXmitCrashes = Expectation(
        "no-xmit-oops",
        "with IPv6 on, the first frame the stack sends calls the missing .ndo_start_xmit: the kernel oopses",
        chapter: 1, anchor: "the-hang", evaluator: .host)
}

// MARK: - Stage 02: open, stop, transmit

extension Expectation {
    public static let upDownRepeat = Expectation(
        "up-down", "ip link set xtun up/down works 3 times, calling ndo_open and ndo_stop",
        chapter: 2, anchor: "open-stop")
    public static let pingSendsArp = Expectation(
        "ping-sends-arp",
        "ping -c 1 10.99.0.2 with no neighbour transmits 3 ARP requests (3 x 42 bytes) and no ICMP",
        chapter: 2, anchor: "what-ping-sends")
    public static let pingSendsIcmp = Expectation(
        "ping-sends-icmp",
        "ping -c 4 10.99.0.2 with a known neighbour transmits 4 ICMP echo requests (4 x 98 bytes)",
        chapter: 2, anchor: "what-ping-sends")
    public static let sustainedTraffic = Expectation(
        "sustained-traffic",
        "10,000 ICMP echo requests on ping's raw-socket path never fail with ENOBUFS; tx counters account for each",
        chapter: 2, anchor: "freeing-the-skb")
    public static let unloadWhileUp = Expectation(
        "unload-while-up", "rmmod while xtun is up and transmitting works",
        chapter: 2, anchor: "unload-while-up")
}

// MARK: - Stage 03: transmit into /dev/xtun

extension Expectation {
    public static let charDevice = Expectation(
        "char-device", "/dev/xtun is a misc character device (major 10)",
        chapter: 3, anchor: "misc-device")
    public static let readUdpExact = Expectation(
        "read-udp-exact",
        "a UDP datagram sent to 10.99.0.2 is read back from /dev/xtun byte for byte",
        chapter: 3, anchor: "reading-a-frame")
    public static let readFrameBoundaries = Expectation(
        "read-frame-boundaries", "each read() returns exactly one whole frame",
        chapter: 3, anchor: "reading-a-frame")
    public static let nonblockEagain = Expectation(
        "nonblock-eagain", "an O_NONBLOCK read on an empty queue fails with EAGAIN",
        chapter: 3, anchor: "blocking")
    public static let blockedReaderWakes = Expectation(
        "blocked-reader-wakes", "a read() blocked on an empty queue wakes when a frame is sent",
        chapter: 3, anchor: "blocking")
    public static let pollReadiness = Expectation(
        "poll-readiness", "poll and epoll report POLLIN exactly when a frame is queued",
        chapter: 3, anchor: "poll")
    public static let shortReadTruncates = Expectation(
        "short-read-truncates",
        "a read buffer shorter than the frame gets the frame's first bytes; the rest is dropped (as tun)",
        chapter: 3, anchor: "short-reads")
    public static let secondOpenBusy = Expectation(
        "second-open-busy", "a second open() of /dev/xtun fails with EBUSY; after close it opens again",
        chapter: 3, anchor: "one-reader")
    public static let closedDrops = Expectation(
        "closed-drops", "while /dev/xtun is closed, transmitted frames are dropped and counted in tx_dropped",
        chapter: 3, anchor: "one-reader")
    public static let overflowBounded = Expectation(
        "overflow-bounded",
        "with nobody reading, frames beyond tx_queue_len are dropped and counted; a reader drains exactly tx_queue_len",
        chapter: 3, anchor: "bounded-queue")
    public static let closeFreesQueue = Expectation(
        "close-frees-queue", "closing /dev/xtun frees the frames still queued and counts them as dropped",
        chapter: 3, anchor: "bounded-queue")
    public static let unloadBusyWhileOpen = Expectation(
        "unload-busy-while-open",
        "rmmod is refused while /dev/xtun is open, and works after close",
        chapter: 3, anchor: "module-reference")
    public static let blockedReaderExits = Expectation(
        "blocked-reader-exits",
        "a reader blocked in read() is killed cleanly; close and unload then work",
        chapter: 3, anchor: "module-reference")
}

// MARK: - Stage 04: receive from /dev/xtun

extension Expectation {
    public static let arpReply = Expectation(
        "arp-reply", "an ARP request for 10.99.0.1 written to /dev/xtun is answered with a correct ARP reply",
        chapter: 4, anchor: "arp")
    public static let icmpEchoReply = Expectation(
        "icmp-echo-reply",
        "an ICMP echo request written from 10.99.0.2 gets a reply with the same id, sequence and payload",
        chapter: 4, anchor: "ping-through-the-device")
    public static let udpDelivered = Expectation(
        "udp-delivered", "a UDP datagram written to /dev/xtun arrives intact at a socket on 10.99.0.1",
        chapter: 4, anchor: "udp")
    public static let badWritesRejected = Expectation(
        "bad-writes", "bad writes get the documented errno and are counted, never injected",
        chapter: 4, anchor: "bad-writes")
    public static let pollWritable = Expectation(
        "poll-writable", "poll reports POLLOUT: a write() never waits",
        chapter: 4, anchor: "writing-a-frame")
    public static let concurrentReadWrite = Expectation(
        "concurrent-rw", "4 writers and a reader at once: every frame arrives, nothing is lost",
        chapter: 4, anchor: "concurrency")
}
