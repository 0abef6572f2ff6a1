import Glibc
import Synchronization
import XtunChecks
import XtunPackets

/// The stage's echo program (`xtun_test`), built by the host next to the
/// module: started, given /dev/xtun, stopped, and its lines counted.
struct EchoProgram {
    let path: String

    /// Next to the module: /xtun/xtun_test in the VM.
    init(session: Session) { path = session.stageFile("xtun_test") }

    /// What it printed: the size of each frame read and written back.
    struct Lines {
        var read: [Int] = []
        var written: [Int] = []
        var other: [String] = []

        init(_ output: String) {
            for line in output.split(separator: "\n") {
                let words = line.split(separator: " ")
                if words.count == 5, words[0] == "read", let size = Int(words[1]) {
                    read.append(size)
                } else if words.count == 5, words[0] == "write", let size = Int(words[1]) {
                    written.append(size)
                } else {
                    other.append(String(line))
                }
            }
        }

        var summary: String {
            let sizes = Dictionary(grouping: read, by: { $0 }).sorted { $0.key < $1.key }
                .map { "\($0.value.count)×\($0.key) bytes" }.joined(separator: ", ")
            return "read \(read.count) frames (\(sizes.isEmpty ? "none" : sizes)), wrote back \(written.count)"
        }
    }

    /// Starts it and waits until it has /dev/xtun open.
    func start() throws -> Child {
        try require(Sys.exists(path), expected: "the echo program \(path), built from the stage's xtun_test.c",
                    got: "no such file: the stage has no xtun_test.c (or no xtun_test rule in its Makefile)")
        let child = try Command.mustStart([path])
        let opened = Sys.wait(seconds: 3) {
            (Sys.list("/proc/\(child.pid)/fd") ?? []).contains { fd in
                readLink("/proc/\(child.pid)/fd/\(fd)") == DriverNames.characterDevice
            }
        }
        guard opened else {
            let result = child.kill()
            throw Failure(expected: "xtun_test to open \(DriverNames.characterDevice) within 3 s",
                          got: "it did not: \(result.summary)")
        }
        return child
    }

    /// Stops it (SIGKILL: it loops forever, as in the article) and reads its lines.
    func stop(_ child: Child) -> Lines { Lines(child.kill().output) }
}

func readLink(_ path: String) -> String? {
    var buffer = [CChar](repeating: 0, count: 4096)
    let count = readlink(path, &buffer, buffer.count - 1)
    guard count >= 0 else { return nil }
    return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// The article's test: ping through xtun while xtun_test echoes, with the
/// kernel's record of every skb freed meanwhile.
struct EchoRun {
    let lines: EchoProgram.Lines
    let ping: CommandResult
    let delta: [String: Int]
    let frees: [SkbFree]

    /// ping's requests, 0.1 s apart: all 4 are sent (0.3 s) while the one
    /// resolution of 10.99.0.2 still runs (3 probes 300 ms apart: it fails
    /// at 0.9 s), so each run reads exactly 3 ARP requests.
    static let pingCount = 4
    static let retransmitMilliseconds = 300

    /// The run without a neighbour entry, once per session: two checks judge it.
    static func shared(_ session: Session) throws -> EchoRun {
        if let run = session.echoRun { return run }
        let run = try EchoRun.run(session, neighbour: false)
        session.echoRun = run
        return run
    }

    /// Runs it; with `neighbour`, 10.99.0.2 has a permanent ARP entry first.
    static func run(_ session: Session, neighbour: Bool) throws -> EchoRun {
        try session.ensureLoaded()
        try session.network.configure()
        if neighbour { try session.network.addPeerNeighbour() }
        let retransmit = "/proc/sys/net/ipv4/neigh/\(session.interface.name)/retrans_time_ms"
        let saved = Sys.read(retransmit) ?? "1000"
        try Sys.write("\(retransmitMilliseconds)", to: retransmit)
        defer { try? Sys.write(saved, to: retransmit) }

        let program = EchoProgram(session: session)
        let child = try program.start()
        let before = session.interface.counters
        var ping = CommandResult(output: "", timedOut: false)
        let frees = try SkbFree.record {
            let started = Sys.now()
            ping = Command.run(["ping", "-I", session.interface.name, "-c", "\(pingCount)", "-i", "0.1", "-W", "1",
                                "\(LabNetwork.peer)"], timeout: 15)
            // Until the resolution has failed, with time to spare.
            Sys.sleep(seconds: started + Double(3 * retransmitMilliseconds + 700) / 1000 - Sys.now())
        }
        let lines = program.stop(child)
        return EchoRun(lines: lines, ping: ping, delta: session.interface.counters.delta(since: before), frees: frees)
    }

    /// Frees in the receive path: frames written to xtun (nothing else
    /// arrives: lo is down and IPv6 off).
    var received: [SkbFree] { frees.filter(\.isReceived) }

    var pingSummary: String {
        ping.output.split(separator: "\n").first { $0.contains("packets transmitted") }.map(String.init)
            ?? "ping: \(ping.summary)"
    }

    /// Every frame read was written back, in order and size, and the
    /// driver's counters saw exactly those.
    func requireEveryFrameEchoed() throws {
        try require(!lines.read.isEmpty, expected: "xtun_test to read the frames ping caused",
                    got: "it read nothing; \(pingSummary); output: \(lines.other.prefix(3).joined(separator: " | "))")
        try require(lines.read == lines.written, expected: "every frame read written back, same sizes",
                    got: lines.summary)
        try require(delta["tx_packets", default: 0] == lines.read.count && delta["rx_packets", default: 0] == lines.written.count,
                    expected: "tx_packets +\(lines.read.count) and rx_packets +\(lines.written.count), as xtun_test counted",
                    got: Counters.describe(delta))
    }

    var freesSummary: String {
        let counts = Dictionary(grouping: received, by: \.description).sorted { $0.key < $1.key }
            .map { "\($0.value.count)× \($0.key)" }
        return counts.isEmpty ? "none seen" : counts.joined(separator: ", ")
            + "; the first: \(received[0].path)"
    }
}

/// Stage 05 (`XtunChecks/Stages/Stage05Test.swift`): the echo program, where
/// the echo ends, and a userspace responder.
enum Stage05Checks {
    static let all: [GuestCheck] = [
        GuestCheck(.echoProgram) { session in
            let run = try EchoRun.shared(session)
            try run.requireEveryFrameEchoed()
            try require(run.ping.output.contains(" 0 packets received"),
                        expected: "ping to get no reply: an echoed frame answers nothing", got: run.pingSummary)
            return "\(run.lines.summary); \(Counters.describe(run.delta)); \(run.pingSummary)"
        },
        GuestCheck(.echoedARPConsumed) { session in
            let run = try EchoRun.shared(session)
            try run.requireEveryFrameEchoed()
            let arp = run.lines.read.filter { $0 == FrameSize.arp }.count
            try require(arp == run.lines.read.count, expected: "only ARP requests (42 bytes) to reach xtun_test: "
                            + "ping's requests wait for 10.99.0.2's address", got: run.lines.summary)
            let consumed = run.received.filter { $0.kind == .consume && $0.place == "arp_process" }
            try require(consumed.count == run.received.count && consumed.count == run.lines.written.count,
                        expected: "each of the \(run.lines.written.count) echoed requests consumed by arp_process()",
                        got: run.freesSummary)
            let failed = run.frees.filter { $0.kind == .drop && $0.reason == "NEIGH_FAILED" }
            try require(failed.count == EchoRun.pingCount,
                        expected: "ping's \(EchoRun.pingCount) requests freed with reason NEIGH_FAILED",
                        got: "\(failed.count): \(failed.first.map(\.description) ?? "none")")
            return "\(consumed.count) echoed ARP requests: consume_skb in \(consumed[0].path) (no drop reason); "
                + "\(failed.count) ICMP requests: kfree_skb in \(failed[0].place) (NEIGH_FAILED)"
        },
        GuestCheck(.echoedICMPDropped) { session in
            let run = try EchoRun.run(session, neighbour: true)
            try run.requireEveryFrameEchoed()
            try require(run.lines.read == Array(repeating: FrameSize.ping, count: EchoRun.pingCount),
                        expected: "ping's \(EchoRun.pingCount) requests (\(FrameSize.ping) bytes) read",
                        got: run.lines.summary)
            let dropped = run.received.filter { $0.kind == .drop && $0.reason == "OTHERHOST" }
            try require(dropped.count == run.received.count && dropped.count == EchoRun.pingCount,
                        expected: "each echoed request dropped with reason OTHERHOST", got: run.freesSummary)
            return "\(dropped.count) echoed requests: kfree_skb in \(dropped[0].path) (OTHERHOST); \(run.pingSummary)"
        },
        GuestCheck(.responderPing) { session in
            try session.ensureLoaded()
            try session.network.configure()
            return try Responding.during(session) {
                let ping = Command.run(["ping", "-I", session.interface.name, "-c", "20", "-i", "0.02", "-W", "2",
                                        "\(LabNetwork.peer)"], timeout: 20)
                let summary = ping.output.split(separator: "\n").first { $0.contains("packets transmitted") }
                    .map(String.init) ?? ping.summary
                try require(ping.output.contains("20 packets transmitted, 20 packets received"),
                            expected: "20 replies of 20", got: summary)
                let shown = Command.run(["ip", "neigh", "show", "\(LabNetwork.peer)", "dev", session.interface.name])
                    .output.split(whereSeparator: \.isWhitespace)
                // "10.99.0.2 lladdr 02:00:00:99:00:02 ref 1 used 0/0/0 probes 4 REACHABLE": address, state.
                let address = shown.firstIndex(of: "lladdr").flatMap { shown.index(after: $0) < shown.endIndex
                    ? String(shown[shown.index(after: $0)]) : nil }
                let state = shown.last.map(String.init) ?? "no entry"
                try require(address == "\(LabNetwork.peerMAC)" && state == "REACHABLE",
                            expected: "\(LabNetwork.peer) REACHABLE at \(LabNetwork.peerMAC)",
                            got: shown.joined(separator: " "))
                return "\(summary); \(LabNetwork.peer) lladdr \(address ?? "?") \(state)"
            }
        },
        GuestCheck(.responderUDP) { session in
            try session.ensureLoaded()
            try session.network.configure()
            return try Responding.during(session) {
                let socket = try Socket.udp()
                try socket.bind(LabNetwork.local, port: 0)
                var sizes: [String] = []
                for length in [1, 512, 1472] {
                    let payload = NumberedPayload.make(index: length, length: length)
                    try socket.mustSend(payload, to: LabNetwork.peer, port: Responder.standardEchoPort)
                    guard let reply = socket.receive(timeout: 3) else {
                        throw Failure(expected: "the \(length)-byte datagram echoed within 3 s", got: "nothing")
                    }
                    try require(reply.bytes == payload && reply.from == LabNetwork.peer
                                    && reply.port == Responder.standardEchoPort,
                                expected: "the same \(length) bytes from \(LabNetwork.peer):\(Responder.standardEchoPort)",
                                got: "\(reply.bytes.count) bytes from \(reply.from):\(reply.port)"
                                    + (reply.bytes == payload ? "" : ", first difference at byte "
                                        + "\(firstDifference(reply.bytes, payload) ?? -1)"))
                    sizes.append("\(length)")
                }
                return "\(sizes.joined(separator: ", ")) bytes echoed byte-exact"
            }
        },
        GuestCheck(.queueFlowControl) { try FlowControl(session: $0).check() },
    ]
}

/// A sender faster than the reader, against a queue of 32: the tuned
/// driver stops the tx queue when its queue is full, so the frames after
/// it wait in the qdisc and the sender blocks on its socket buffer (the
/// qdisc's skbs still count against it); stage 04's driver drops them.
struct FlowControl {
    let session: Session
    static let queue = 32
    static let sent = 100
    /// A small send buffer: the sender blocks after a few frames in the qdisc,
    /// long before the qdisc (as long as txqueuelen) could overflow.
    static let sendBuffer: Int32 = 4096

    func check() throws -> String {
        try session.configureWithPeer()
        try session.network.setQueueLength(Self.queue)
        let device = try session.openDevice()
        defer { device.close() }
        let sender = try UDPSender(port: 40011)
        try sender.socket.set(SOL_SOCKET, SO_SNDBUF, Self.sendBuffer, "SO_SNDBUF")
        // A queue nobody wakes must not block the sender for ever.
        try sender.socket.setSendTimeout(seconds: 2 * session.timeScale)
        let before = session.interface.counters
        let progress = Progress()
        let sending = Worker { () -> (sent: Int, error: String?) in
            for index in 0..<Self.sent {
                do {
                    try sender.send(NumberedPayload.make(index: index, length: 32))
                    progress.sent.add(1, ordering: .relaxed)
                } catch let failure as Failure {
                    return (index, failure.got)
                } catch {
                    return (index, "\(error)")
                }
            }
            return (Self.sent, nil)
        }
        // Nobody reads yet: the queue fills, and nothing may be dropped.
        Sys.sleep(seconds: 0.3 * session.timeScale)
        let behind = session.interface.counters.delta(since: before)
        let sentWhileBehind = progress.sent.load(ordering: .relaxed)
        // Then read what comes, and let the sender finish before judging, so
        // that no sending thread outlives the check into the next one.
        var order: [Int] = []
        while order.count < Self.sent, let frame = device.nextFrame(timeout: 1 * session.timeScale) {
            order.append(NumberedPayload.index(of: frame.dropFirst(FrameSize.udpOverhead)) ?? -1)
        }
        let outcome = try sending.mustJoin(timeout: 5 * session.timeScale, "the sender")
        let delta = session.interface.counters.delta(since: before)

        try require(behind["tx_dropped"] == nil,
                    expected: "no frame dropped while the reader is behind (\(Self.sent) sent, queue \(Self.queue))",
                    got: Counters.describe(behind))
        // A driver that queued without bound would drop nothing either.
        try require(sentWhileBehind < Self.sent,
                    expected: "the sender held back while nobody reads (blocked on its socket buffer)",
                    got: "it sent all \(Self.sent) with nothing read: the queue took them all")
        try require(order.count == Self.sent,
                    expected: "all \(Self.sent) datagrams read: each read that halves the queue wakes the tx queue",
                    got: "\(order.count) read, then nothing for \(seconds(1 * session.timeScale)); the sender "
                        + (outcome.error.map { "gave up waiting for buffer space: \($0)" } ?? "sent all")
                        + "; \(Counters.describe(delta))")
        try require(order == Array(0..<Self.sent), expected: "datagrams 0...\(Self.sent - 1) in order",
                    got: "\(order)")
        try require(outcome.sent == Self.sent && delta["tx_dropped"] == nil && delta["tx_packets"] == Self.sent,
                    expected: "\(Self.sent) sent, tx_packets +\(Self.sent), no tx_dropped",
                    got: "\(outcome.sent) sent\(outcome.error.map { " (\($0))" } ?? ""); \(Counters.describe(delta))")
        return "txqueuelen \(Self.queue): the sender held back at \(sentWhileBehind) of \(Self.sent) while nobody read; "
            + "0 dropped, \(Self.sent) read in order"
    }

    /// What the sending thread has sent so far.
    final class Progress: Sendable {
        let sent = Atomic<Int>(0)
    }
}

/// The responder on a device for the length of `body`.
enum Responding {
    /// On /dev/xtun, for a check: what it observed, and what the responder did.
    static func during(_ session: Session, _ body: () throws -> String) throws -> String {
        let device = try session.openDevice()
        defer { device.close() }
        let (observed, tally) = try on(device, body)
        return observed + "; the responder \(tally)"
    }

    /// On `device`, which stays open.
    static func on<T>(_ device: FrameDevice, _ body: () throws -> T) throws -> (T, ResponderLoop.Tally) {
        let loop = ResponderLoop(device: device)
        let worker = Worker { loop.run() }
        let result = Result { try body() }
        loop.stop()
        let tally = try worker.mustJoin(timeout: 5, "the responder")
        return (try result.get(), tally)
    }
}
