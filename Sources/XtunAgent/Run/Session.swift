import XtunChecks
import XtunPackets

/// Everything a check can use; one per run.
final class Session {
    let module: ModuleControl
    /// The frame device the checks open: /dev/xtun (tun's tap in comparisons).
    let deviceKind: FrameDevice.Kind
    let interface: Interface
    let log = KernelLogBook()
    let reporter: Reporter
    /// xtun's flags, operstate and IFF_UP right after the `loads` check loaded it.
    var stateAfterLoad: (flags: String, operstate: String, isUp: Bool)?
    /// A check that ran out of time, its thread still blocked in the kernel.
    var blockedCheck: Expectation?
    /// Who had allocated what before the first insmod, for the leak check.
    let slabBaseline: SlabUsers?
    /// Stretches of the kernel log (line ranges) where a check made the kernel
    /// print stacks on purpose (sysrq l, injected failures).
    var provokedStacks: [Range<Int>] = []
    /// Stage 05's echo test without a neighbour entry, which two checks judge.
    var echoRun: EchoRun?

    /// The kernel log the health gate judges: all of it, with the provoked
    /// stacks allowed (`KernelLog.allowingProvoked(in:)`).
    var judgedLog: KernelLog { provokedStacks.reduce(log.all) { $0.allowingProvoked(in: $1) } }

    /// kmemleak's reports at the end of the run, once scanned (debug kernel).
    private var kmemleakScan: [String]?

    /// How many times longer every deadline is (the debug kernel is slower).
    let timeScale: Double

    /// The stage whose suite runs: from stage 06 the frame device is the
    /// persistent tap that loading the module makes (`ModuleControl.makesTap`).
    let stage: Stage

    init(modulePath: String, reporter: Reporter, stage: Stage, timeScale: Double = 1) {
        self.timeScale = timeScale
        self.stage = stage
        let makesTap = stage >= .stage06
        module = ModuleControl(path: modulePath, makesTap: makesTap)
        deviceKind = makesTap ? .xtunTap : .xtun
        interface = Interface(name: deviceKind.interface)
        self.reporter = reporter
        slabBaseline = SlabUsers.read()
        if Kmemleak.isAvailable { Kmemleak.clear() }
    }

    /// What kmemleak finds once the run is over: asked once (two scans), after the
    /// youngest object that could have leaked is old enough to be reported.
    func kmemleakReports() -> [String] {
        if let kmemleakScan { return kmemleakScan }
        Sys.sleep(seconds: Kmemleak.minimumAge + 1)
        let reports = Kmemleak.scan()
        kmemleakScan = reports
        return reports
    }

    var network: NetworkSetup { NetworkSetup(interface: interface) }

    func note(_ text: String) { reporter.send(.note(text)) }

    /// Why later checks cannot be trusted, if they cannot: after an Oops the
    /// kernel may hold locks forever, and a blocked check may hold the device.
    var trouble: String? {
        if log.all.firstFatal != nil { return "the kernel oopsed earlier" }
        if let blockedCheck { return "\(blockedCheck.id) is still blocked in the kernel" }
        return nil
    }

    /// Loads the module if it is not loaded; throws if that fails.
    func ensureLoaded() throws {
        if module.isLoaded && interface.exists { return }
        // From stage 06 a check may have deleted the tap and left the module.
        let result = module.isLoaded && module.makesTap ? module.makeTap() : module.load()
        let alarm = log.all.firstAlarm
        try require(result.succeeded && interface.exists,
                    expected: "\(module.name) loaded", got: "insmod: \(result.summary)"
                        + (alarm.map { "; kernel: \($0)" } ?? ""))
    }

    /// Back to a quiet interface between checks: down, no address, default queue.
    func reset() {
        guard module.isLoaded, interface.exists else { return }
        _ = Command.run(["ip", "link", "set", interface.name, "down"])
        _ = Command.run(["ip", "addr", "flush", "dev", interface.name])
        try? network.setQueueLength(1000)
    }

    /// Opens the session's frame device or throws a check failure.
    func openDevice(nonblocking: Bool = false) throws -> FrameDevice {
        try FrameDevice.mustOpen(deviceKind, nonblocking: nonblocking)
    }

    /// A program that blocks reading the frame device: `cat /dev/xtun`, or
    /// from stage 06 the agent itself, attached with TUNSETIFF first.
    func blockingReader() -> [String] {
        guard case .tap(let name, let node) = deviceKind else { return ["cat", deviceKind.path] }
        let steps = ["open a", "setiff a tap,no_pi \(name)", "wait-read a"]
        return [TunScript.agentPath]
            + AgentCommand.tunScript(AgentTunScript(node: node, uid: 0, gid: 0, steps: steps)).arguments
    }

    /// The interface's MAC address, or a failure.
    func mac() throws -> MACAddress {
        guard let mac = interface.mac else {
            throw Failure(expected: "a MAC address in \(interface.directory)/address", got: "none")
        }
        return mac
    }

    func frames() throws -> Frames { Frames(xtunMAC: try mac()) }

    /// A file of the stage's that the host put next to the module
    /// (/xtun/xtun_test in the VM).
    func stageFile(_ name: String) -> String {
        let directory = module.path.lastIndex(of: "/").map { String(module.path[..<$0]) } ?? "."
        return "\(directory)/\(name)"
    }

    /// Up with 10.99.0.1/24 and a permanent neighbour entry for 10.99.0.2.
    func configureWithPeer() throws {
        try ensureLoaded()
        try network.configure()
        try network.addPeerNeighbour()
    }
}
