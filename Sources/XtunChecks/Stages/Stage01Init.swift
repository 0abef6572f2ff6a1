// Stage 01: allocate and register the net_device (book/01-init.md).

extension Expectation {
    public static let buildsClean = Expectation(
        "builds-clean", "the module builds with W=1 and no warnings",
        chapter: .stage01, anchor: "building", evaluator: .build)
    public static let loads = Expectation(
        "loads", "insmod xtun.ko succeeds", chapter: .stage01, anchor: "loading")
    public static let registered = Expectation(
        "registered", "xtun appears in /sys/class/net", chapter: .stage01, anchor: "loading")
    public static let typeEther = Expectation(
        "type-ether", "xtun is an Ethernet device (type 1, ARPHRD_ETHER)",
        chapter: .stage01, anchor: "ether-setup")
    public static let macValid = Expectation(
        "mac-valid", "xtun has a valid unicast, non-zero MAC address",
        chapter: .stage01, anchor: "mac-address")
    public static let mtu1500 = Expectation(
        "mtu-1500", "xtun has MTU 1500", chapter: .stage01, anchor: "ether-setup")
    public static let downAfterLoad = Expectation(
        "down-after-load", "xtun is down after loading", chapter: .stage01, anchor: "loading")
    public static let upWithoutOpen = Expectation(
        "up-without-ndo-open",
        "ip link set xtun up succeeds without .ndo_open (IPv6 off: nothing is sent)",
        chapter: .stage01, anchor: "up-without-ndo-open")
    public static let unloads = Expectation(
        "unloads", "rmmod xtun removes the interface", chapter: .stage01, anchor: "unloading")
    public static let reloads = Expectation(
        "reloads", "load and unload work twice more", chapter: .stage01, anchor: "unloading")
    public static let initUnwinds = Expectation(
        "init-unwinds",
        "every slab allocation insmod makes, failed in turn, leaves nothing behind: no oops, no leak, the next insmod works",
        chapter: .stage01, anchor: "every-failure-unwinds",
        requirement: .debugKernel(because: "it needs fault injection: --kernel debug"))
    public static let noLeaks = Expectation(
        "no-leaks",
        "after the last rmmod nothing the module allocated is left: no allocation from its code, no extra skb",
        chapter: .stage01, anchor: "leaks",
        requirement: .virtualMachine(because: "it needs the VM kernel's slab user tracking (slub_debug=U)"))
    public static let kernelLogClean = Expectation(
        "kernel-log-clean", "the kernel log has no WARN, BUG, Oops, refcount or leak report",
        chapter: .stage01, anchor: "health")
    public static let transmitWithoutXmitCrashes = Expectation(
        "no-xmit-oops",
        "with IPv6 on, the first frame the stack sends calls the missing .ndo_start_xmit: the kernel oopses",
        chapter: .stage01, anchor: "the-hang", evaluator: .console)
}

extension Pitfall {
    public static let nullNetdevOps = Pitfall(
        name: "null-netdev-ops", stage: .stage01,
        summary: "netdev_ops left NULL: register_netdev() dereferences it and oopses",
        anchor: "pitfall-null-netdev-ops",
        caughtBy: [.loads, .registered, .kernelLogClean])
    public static let noFreeNetdev = Pitfall(
        name: "no-free-netdev", stage: .stage01,
        summary: "the exit path unregisters the net_device but never frees it: every load leaks it, "
            + "and every check but the leak check passes",
        anchor: "pitfall-no-free-netdev",
        caughtBy: [.noLeaks])
}

extension Suite {
    /// Every stage begins here: build, load, look at what was registered.
    static let loadAndInspect: [Expectation] = [
        .buildsClean, .loads, .registered, .typeEther, .macValid, .mtu1500, .downAfterLoad,
    ]

    /// And ends here, before the health gate. The walk through init's error
    /// paths (debug kernel) runs where init changes: here, and in stage 03.
    static let unloadAndReload: [Expectation] = [.unloads, .reloads, .noLeaks]

    static let stage01 = Suite(stage: .stage01, expectations:
        loadAndInspect
        + [.upWithoutOpen]
        + [.unloads, .reloads, .initUnwinds, .noLeaks]
        + [.kernelLogClean, .transmitWithoutXmitCrashes])
}
