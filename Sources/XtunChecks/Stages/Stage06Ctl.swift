// Stage 06: tun's control interface (book/06-ctl.md).

extension Expectation {
    public static let controlLoad = Expectation(
        "ctl-load",
        "insmod registers /dev/xtun, open to everyone as /dev/net/tun is, and the link kind xtun, "
            + "and creates no interface: TUNSETIFF does",
        chapter: .stage06, anchor: "loading")
    public static let persistentTap = Expectation(
        "persistent-tap",
        "TUNSETIFF(IFF_TAP | IFF_NO_PI, \"xtun\") and TUNSETPERSIST make the Ethernet device xtun, which stays "
            + "after its file closes and takes a new file; the earlier stages' checks run on it",
        chapter: .stage06, anchor: "the-device-the-earlier-checks-use")
    public static let carrierFollowsFile = Expectation(
        "carrier-follows-file",
        "xtun has carrier while a file is attached and loses it when the file closes; what the stack sent "
            + "meanwhile is not read by the next file",
        chapter: .stage06, anchor: "carrier")
    public static let tunConformance = Expectation(
        "tun-conformance",
        "every scenario of the conformance table gives on /dev/xtun what it gives on tun.ko's /dev/net/tun "
            + "in the same kernel, except the documented differences",
        chapter: .stage06, anchor: "conformance")
    public static let tunctlPersistent = Expectation(
        "tunctl",
        "Debian's tunctl -f /dev/xtun -t ct5 -u 1000 makes a persistent TAP device that user 1000 may attach to, "
            + "and tunctl -d deletes it",
        chapter: .stage06, anchor: "real-programs")
    public static let socatTun = Expectation(
        "socat-tun",
        "socat's TUN address with tun-device=/dev/xtun, with and without iff-no-pi, gets what the stack sends "
            + "through the device it makes, as tun would give it",
        chapter: .stage06, anchor: "real-programs")
    public static let openvpnTunnel = Expectation(
        "openvpn",
        "openvpn with a static key between two network namespaces over a veth pair, --dev-node /dev/xtun, in "
            + "tun and in tap mode: ping gets its replies and 1 MiB over TCP arrives byte-exact",
        chapter: .stage06, anchor: "real-programs")
    public static let tunByName = Expectation(
        "dev-net-tun-programs",
        "programs that open /dev/net/tun by name (ip tuntap, slirp4netns, pasta) make and use xtun devices when "
            + "/dev/xtun is bind-mounted over /dev/net/tun in a mount namespace of their own",
        chapter: .stage06, anchor: "programs-that-open-devnettun")
    public static let vpnForwarder = Expectation(
        "vpn-forwarder",
        "two TUN devices in two network namespaces, joined by a program that copies every packet between their "
            + "files: 1 MiB over TCP arrives byte-exact, through xtun and through tun.ko alike",
        chapter: .stage06, anchor: "the-vpn-shape")
    public static let fuzz = Expectation(
        "fuzz",
        "4 processes make 100,000 random calls on /dev/xtun (ioctls valid and not, with good, NULL and bad "
            + "arguments, writes, reads, opens and closes) without a kernel alarm, and leave no device behind",
        chapter: .stage06, anchor: "robustness")
    public static let races = Expectation(
        "races",
        "attach, detach, persist, RTM_DELLINK, unload and reload race each other under traffic without a "
            + "kernel alarm or a blocked call; the module is loaded at the end and no device is left",
        chapter: .stage06, anchor: "robustness")
    public static let unloadRemovesDevices = Expectation(
        "unload-removes-devices",
        "rmmod removes every device left, persistent TAP and TUN devices in two network namespaces among them",
        chapter: .stage06, anchor: "lifetime")
}

extension Pitfall {
    public static let noQueueLength = Pitfall(
        name: "no-queue-len", stage: .stage06,
        summary: "the setup callback leaves tx_queue_len 0: alloc_netdev() takes xtun for a device without a "
            + "queue, it gets no qdisc, and what flow control holds back is dropped",
        anchor: "the-queue-length",
        caughtBy: [.queueFlowControl, .tunConformance])
}

extension Suite {
    /// The earlier stages' checks run on a persistent TAP device that the
    /// agent makes after every insmod (`persistent-tap`). Two of them change:
    /// a second file is refused by TUNSETIFF, not by open() (the conformance
    /// table has it), and a device without a file has no carrier, so what is
    /// sent meanwhile no longer reaches the driver to be counted.
    static let stage06 = Suite(stage: .stage06, expectations:
        loadAndInspect + [.controlLoad, .persistentTap, .upDownRepeat]
        + transmitToReader.filter { $0 != .secondOpenBusy && $0 != .closedDrops }
            .map { $0 == .overflowBounded ? .queueFlowControl : $0 }
        + [.carrierFollowsFile]
        + receiveFromWriter
        + [.echoProgram, .echoedARPConsumed, .echoedICMPDropped, .responderPing, .responderUDP]
        + [.tunConformance, .tunctlPersistent, .socatTun, .openvpnTunnel, .tunByName, .vpnForwarder, .fuzz, .races]
        + [.unloadRemovesDevices]
        + unloadAndReload
        + [.kernelLogClean],
        // The conformance table, Debian's programs and the fuzzer take half
        // the stage's time: they run in a second guest beside the first,
        // which ends with the same gates.
        secondGuest: [.tunConformance, .tunctlPersistent, .socatTun, .openvpnTunnel, .tunByName, .fuzz])
}
