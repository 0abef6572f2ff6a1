import Glibc
import XtunChecks
import XtunPackets

/// `check-step 5 --bench`: the same three programs against /dev/xtun and
/// against a tap of Linux's tun (tun.ko of the same kernel, TUNSETIFF with
/// IFF_TAP | IFF_NO_PI), configured alike: address, MTU 1500, txqueuelen
/// 1000, the kernel's default qdisc, a permanent neighbour for 10.99.0.2.
/// Rounds alternate which device goes first; each round reports every
/// benchmark's value for both.
struct Bench {
    let session: Session
    let rounds: Int

    /// 64-byte frames: Ethernet + IPv4 + UDP headers (42) and 22 bytes.
    static let frameLength = 64
    static let payloadLength = frameLength - FrameSize.udpOverhead
    static let frames = 20_000
    static let pings = 200
    static let port: UInt16 = 9000
    static let tap = "tap0"
    /// B4's TCP transfer.
    static let forwardedBytes = 8 << 20

    /// One device under test, opened and configured.
    struct Target {
        let kind: FrameDevice.Kind
        let device: FrameDevice
        var interface: String { kind.interface }
        var label: String { Bench.label(node: kind.path) }
    }

    /// Each benchmark runs on the two devices back to back, so the pair sees
    /// the same host: under TCG the host's other load drifts within seconds,
    /// and a round of all three benchmarks on one device, then the other,
    /// put ten seconds of that drift between the two halves of each ratio.
    func run() {
        for round in 0..<rounds {
            let kinds = [session.deviceKind, .tap(name: Bench.tap)]
            let order = round % 2 == 0 ? kinds : kinds.reversed()
            for (name, measure) in [("B1", inject), ("B2", extract), ("B3", echo)] {
                for kind in order {
                    do {
                        let target = try open(kind)
                        defer { close(target) }
                        for value in try measure(target) {
                            session.reporter.send(.benchmark(BenchmarkSample(
                                name: value.name ?? name, unit: value.unit, device: target.label, round: round,
                                value: value.value, detail: value.detail)))
                        }
                    } catch let failure as Failure {
                        session.note("bench round \(round), \(name) on \(kind): expected \(failure.expected), got \(failure.got)")
                    } catch {
                        session.note("bench round \(round), \(name) on \(kind): \(error)")
                    }
                }
            }
            if session.stage >= .stage06 { forward(round: round, order: order.map(\.path)) }
        }
    }

    static func label(node: String) -> String { node == TunNode.tun ? "tun" : "xtun" }

    /// B4 (stage 06): TCP through a userspace forwarder between two TUN
    /// devices in two network namespaces (`Forwarder`), the shape of a VPN.
    func forward(round: Int, order nodes: [String]) {
        let size = Bench.forwardedBytes
        for node in nodes {
            do {
                try session.ensureLoaded()
                let forwarder = try Forwarder(node: node)
                let seconds = try forwarder.transfer(size: size, seed: UInt64(round), scale: session.timeScale)
                let copied = forwarder.stop()
                session.reporter.send(.benchmark(BenchmarkSample(
                    name: "B4", unit: "MB/s", device: Bench.label(node: node), round: round,
                    value: Double(size) / max(seconds, 1e-6) / 1e6,
                    detail: "\(size >> 20) MiB byte-exact in \(String(format1: seconds)) s, "
                        + "\(copied[0]) packets forwarded one way, \(copied[1]) the other")))
            } catch let failure as Failure {
                session.note("bench round \(round), B4 on \(node): expected \(failure.expected), got \(failure.got)")
            } catch {
                session.note("bench round \(round), B4 on \(node): \(error)")
            }
        }
    }

    struct Value {
        var name: String? = nil
        let unit: String
        let value: Double
        var detail = ""
    }

    func open(_ kind: FrameDevice.Kind) throws -> Target {
        if kind.path != TunNode.tun { try session.ensureLoaded() }
        let device = try FrameDevice.mustOpen(kind)
        let setup = NetworkSetup(interface: Interface(name: kind.interface))
        try setup.setAddress(LabNetwork.fixedLocalMAC, mtu: 1500)
        try setup.setQueueLength(1000)
        try setup.configure()
        try setup.addPeerNeighbour()
        _ = device.drain()
        return Target(kind: kind, device: device)
    }

    func close(_ target: Target) {
        _ = Command.run(["ip", "link", "set", target.interface, "down"])
        _ = Command.run(["ip", "addr", "flush", "dev", target.interface])
        target.device.close()
    }

    func counter(_ interface: String, _ name: String) -> Int {
        Interface(name: interface).statistic(name)
    }

    /// A thread that counts what `next` brings until `Bench.frames`, or until
    /// half a second brings nothing; and when the last came.
    func counting(_ next: @escaping (Double) -> Bool) -> Worker<(count: Int, last: Double)> {
        Worker {
            var count = 0
            var last = 0.0
            while count < Bench.frames, next(0.5) {
                count += 1
                last = Sys.now()
            }
            return (count, last)
        }
    }

    /// B1: 64-byte frames written to the device as fast as one thread can,
    /// counted as they arrive at a UDP socket on 10.99.0.1.
    func inject(_ target: Target) throws -> [Value] {
        let receiver = try Socket.udp()
        try receiver.set(SOL_SOCKET, SO_RCVBUFFORCE, 256 << 20, "SO_RCVBUFFORCE")
        try receiver.bind(LabNetwork.local, port: Bench.port)
        let frame = Frames(xtunMAC: LabNetwork.fixedLocalMAC).udpFromPeer(
            sourcePort: 9001, destinationPort: Bench.port, payload: [UInt8](repeating: 0x42, count: Bench.payloadLength))
        let dropped = counter(target.interface, "rx_dropped")
        let receiving = counting { receiver.receive(timeout: $0) != nil }
        let start = Sys.now()
        var failed = 0
        for _ in 0..<Bench.frames {
            if case .failure = target.device.write(frame) { failed += 1 }
        }
        let (received, last) = try receiving.mustJoin(timeout: 60 * session.timeScale, "the receiving socket")
        let lost = Bench.frames - received
        return [Value(unit: "packets/s", value: Double(received) / max(last - start, 1e-6),
                      detail: "\(received) of \(Bench.frames) delivered, \(lost) lost (rx_dropped +"
                        + "\(counter(target.interface, "rx_dropped") - dropped), write errors \(failed))")]
    }

    /// B2: 64-byte datagrams sent out of the interface as fast as one
    /// thread can, read from the device by another.
    func extract(_ target: Target) throws -> [Value] {
        let sender = try UDPSender(port: 9002)
        let device = target.device
        let reading = counting { device.nextFrame(timeout: $0) != nil }
        let dropped = counter(target.interface, "tx_dropped")
        let payload = [UInt8](repeating: 0x43, count: Bench.payloadLength)
        let start = Sys.now()
        var refused = 0
        for _ in 0..<Bench.frames {
            if (try? sender.send(payload)) == nil { refused += 1 }
        }
        let read = try reading.mustJoin(timeout: 60 * session.timeScale, "the reader")
        let drops = counter(target.interface, "tx_dropped") - dropped
        return [Value(unit: "packets/s", value: Double(read.count) / max(read.last - start, 1e-6),
                      detail: "\(read.count) of \(Bench.frames) read, tx_dropped +\(drops), send errors \(refused)")]
    }

    /// B3: ping's round trip through the responder on the device.
    func echo(_ target: Target) throws -> [Value] {
        _ = Command.run(["arp", "-i", target.interface, "-d", "\(LabNetwork.peer)"])
        let (ping, _) = try Responding.on(target.device) {
            Command.run(["ping", "-I", target.interface, "-c", "\(Bench.pings)", "-i", "0.01", "-W", "2",
                         "\(LabNetwork.peer)"], timeout: 60 * session.timeScale)
        }
        let times = ping.output.split(separator: "\n").compactMap { line -> Double? in
            guard let range = line.firstRange(of: "time=") else { return nil }
            return Double(line[range.upperBound...].prefix { $0 == "." || $0.isNumber })
        }.map { $0 * 1000 }.sorted()
        try require(times.count >= Bench.pings / 2, expected: "at least \(Bench.pings / 2) replies of \(Bench.pings)",
                    got: "\(times.count): \(ping.summary)")
        func percentile(_ p: Double) -> Double { times[min(times.count - 1, Int(Double(times.count) * p))] }
        let detail = "\(times.count) of \(Bench.pings) replies"
        return [Value(name: "B3 p50", unit: "µs", value: percentile(0.5), detail: detail),
                Value(name: "B3 p99", unit: "µs", value: percentile(0.99), detail: detail)]
    }
}
