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

/// Everything a check can use; one per run.
final class Session {
    let module: ModuleControl
    let interface = Interface(name: "xtun")
    let log = KernelLogBook()
    let reporter: Reporter

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
