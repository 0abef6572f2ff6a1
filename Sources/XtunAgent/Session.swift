import Glibc
import XtunChecks

/// Writes wire messages to the host: the second serial port in the VM,
/// standard output on the host.
struct Reporter {
    let fd: Int32

    func send(_ message: WireMessage) {
        let bytes = Array((message.line + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBufferPointer {
                Glibc.write(fd, $0.baseAddress, $0.count)
            }
            if count <= 0 { break }
            offset += count
        }
    }
}

/// Where the agent runs: the lab's VM, or the user's own machine (--host),
/// where nothing may crash the kernel and settings are put back.
enum Place {
    case virtualMachine, host
}

/// Kernel settings every run wants: the kernel log on the console (VM only),
/// and no IPv6 chatter on new interfaces unless a check turns it on.
struct KernelSettings {
    static let ipv6Default = "/proc/sys/net/ipv6/conf/default/disable_ipv6"
    /// What to put back on the host; nothing in the VM, which powers off
    /// (and whose RTNL a broken module may hold forever, so a write would hang).
    private let savedIPv6: String?

    static func prepare(for place: Place) -> KernelSettings {
        if place == .virtualMachine { try? Sys.write("8", to: "/proc/sys/kernel/printk") }
        let settings = KernelSettings(savedIPv6: place == .host ? Sys.read(ipv6Default) : nil)
        try? Sys.write("1", to: ipv6Default)
        return settings
    }

    func restore() {
        if let savedIPv6 { try? Sys.write(savedIPv6, to: KernelSettings.ipv6Default) }
    }
}

/// Everything a check can use; one per run.
final class Session {
    let module: ModuleControl
    let interface = Interface(name: "xtun")
    let log = KernelLogBook()
    let reporter: Reporter
    /// xtun's flags, operstate and IFF_UP right after the `loads` check loaded it.
    var stateAfterLoad: (flags: String, operstate: String, isUp: Bool)?

    init(modulePath: String, reporter: Reporter) {
        module = ModuleControl(path: modulePath)
        self.reporter = reporter
    }

    var network: NetworkSetup { NetworkSetup(interface: interface) }

    func note(_ text: String) { reporter.send(.note(text)) }

    /// The first Oops or BUG in the kernel log, if there was one: after it
    /// the kernel may hold locks forever, so no further check runs.
    var fatalKernelError: String? {
        log.since(0).first { $0.contains("Oops") || $0.contains("BUG:") || $0.contains("kernel BUG at") }
    }

    /// Loads the module if it is not loaded; throws if that fails.
    func ensureLoaded() throws {
        if module.isLoaded && interface.exists { return }
        let result = module.load()
        let alarm = KernelLog(lines: Array(log.since(0))).firstAlarm
        try require(result.succeeded && interface.exists,
                    expected: "xtun loaded", got: "insmod: \(result.summary)"
                        + (alarm.map { "; kernel: \($0)" } ?? ""))
    }

    /// Back to a quiet interface between checks: down, no address, default queue.
    func reset() {
        guard module.isLoaded, interface.exists else { return }
        _ = Command.run(["ip", "link", "set", interface.name, "down"])
        _ = Command.run(["ip", "addr", "flush", "dev", interface.name])
        try? network.setQueueLength(1000)
    }

    /// xtun's MAC address, or a failure.
    func xtunMAC() throws -> MACAddress {
        guard let mac = interface.mac else {
            throw Failure(expected: "a MAC address in \(interface.directory)/address", got: "none")
        }
        return mac
    }

    func frames() throws -> Frames { Frames(xtunMAC: try xtunMAC()) }

    /// Up with 10.99.0.1/24 and a permanent neighbour entry for 10.99.0.2.
    func configureWithPeer() throws {
        try ensureLoaded()
        try network.configure()
        try network.addPeerNeighbour()
    }
}

/// One check the agent can run.
struct GuestCheck: Sendable {
    /// Whether the runner loads the module first.
    var needsModule = true
    /// Returns what was observed; throws `Failure`.
    let run: @Sendable (Session) throws -> String
}
