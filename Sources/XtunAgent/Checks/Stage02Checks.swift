import XtunChecks
import XtunPackets

/// Stage 02 (`XtunChecks/Stages/Stage02Ops.swift`): open, stop, and a
/// transmit that counts and frees.
enum Stage02Checks {
    static let all: [GuestCheck] = [
        GuestCheck(.upDownRepeat) { session in
            let mark = session.log.mark
            for round in 1...3 {
                try session.network.up()
                try require(session.interface.isUp, expected: "\(session.interface.name) up in round \(round)",
                            got: "flags \(session.interface.flagsText)")
                try session.network.down()
                try require(!session.interface.isUp, expected: "\(session.interface.name) down in round \(round)",
                            got: "flags \(session.interface.flagsText)")
            }
            let lines = session.log.since(mark)
            let opens = lines.filter { $0.hasSuffix("\(session.interface.name): open") }.count
            let stops = lines.filter { $0.hasSuffix("\(session.interface.name): stop") }.count
            try require(opens == 3 && stops == 3,
                        expected: "the driver to log \"xtun: open\" and \"xtun: stop\" 3 times each",
                        got: "\(opens) open, \(stops) stop")
            return "3 rounds; ndo_open and ndo_stop each logged 3 times"
        },
        GuestCheck(.pingSendsArp) { session in
            try session.network.configure()
            let before = session.interface.counters
            let started = Sys.now()
            let ping = Command.run(["ping", "-I", session.interface.name, "-c", "1", "-W", "4", "\(LabNetwork.peer)"],
                                   timeout: 15)
            // The neighbour gives up after 3 probes, 1 s apart.
            Sys.sleep(seconds: 3.5 - (Sys.now() - started))
            let delta = session.interface.counters.delta(since: before)
            let arp = FrameSize.arp
            try require(delta["tx_packets"] == 3 && delta["tx_bytes"] == 3 * arp,
                        expected: "3 ARP requests of \(arp) bytes (tx_packets +3, tx_bytes +\(3 * arp))",
                        got: Counters.describe(delta) + "; ping: \(ping.summary)")
            return "tx_packets +3, tx_bytes +\(3 * arp): three \(arp)-byte ARP requests, no ICMP"
        },
        GuestCheck(.pingSendsIcmp) { session in
            try session.configureWithPeer()
            let before = session.interface.counters
            let ping = Command.run(["ping", "-I", session.interface.name, "-c", "4", "-W", "1", "\(LabNetwork.peer)"],
                                   timeout: 20)
            let delta = session.interface.counters.delta(since: before)
            let size = FrameSize.ping
            try require(delta["tx_packets"] == 4 && delta["tx_bytes"] == 4 * size,
                        expected: "4 echo requests of \(size) bytes (tx_packets +4, tx_bytes +\(4 * size))",
                        got: Counters.describe(delta) + "; ping: \(ping.summary)")
            return "tx_packets +4, tx_bytes +\(4 * size)"
        },
        GuestCheck(.sustainedTraffic) { session in
            try session.configureWithPeer()
            let socket = try Socket.icmpRaw()
            let total = 10_000
            let size = FrameSize.ping
            let before = session.interface.counters
            for index in 0..<total {
                let echo = Frames.echoRequest(identifier: 0x7874, sequence: UInt16(truncatingIfNeeded: index))
                if let error = socket.send(echo, to: LabNetwork.peer) {
                    let delta = session.interface.counters.delta(since: before)
                    throw Failure(
                        expected: "\(total) sendto() calls to succeed",
                        got: "sendto #\(index + 1) failed with \(error); "
                            + "\(Counters.describe(delta)); \(pingFlood(session))")
                }
            }
            let delta = session.interface.counters.delta(since: before)
            try require(delta["tx_packets"] == total && delta["tx_bytes"] == total * size,
                        expected: "tx_packets +\(total), tx_bytes +\(total * size)",
                        got: Counters.describe(delta))
            return "tx_packets +\(total), tx_bytes +\(total * size), no errors"
        },
        GuestCheck(.unloadWhileUp) { session in
            try session.configureWithPeer()
            let ping = try Command.mustStart(["ping", "-I", session.interface.name, "-i", "0.2", "\(LabNetwork.peer)"])
            let before = session.interface.statistic("tx_packets")
            Sys.sleep(milliseconds: 1000)
            let sending = session.interface.statistic("tx_packets") > before
            let unload = session.module.unload()
            _ = ping.kill()
            try require(unload.succeeded, expected: "rmmod to exit 0 while \(session.interface.name) is up",
                        got: unload.summary)
            try require(sending, expected: "ping to be transmitting on \(session.interface.name)",
                        got: "tx_packets did not move")
            try require(!session.interface.exists, expected: "\(session.interface.name) gone", got: "still there")
            return "rmmod exit 0 while ping was sending"
        },
    ]

    /// What ping itself says when it sends fast on a fresh socket: the
    /// article's symptom, reproduced.
    static func pingFlood(_ session: Session) -> String {
        let before = session.interface.statistic("tx_packets")
        let ping = Command.run(["ping", "-I", session.interface.name, "-c", "2000", "-i", "0.001", "-q",
                                "\(LabNetwork.peer)"], timeout: 30)
        let sent = session.interface.statistic("tx_packets") - before
        let message = ping.output.split(separator: "\n").first { $0.hasPrefix("ping:") }
        return "then `ping -c 2000 -i 0.001` sent \(sent) and said: "
            + (message.map(String.init) ?? ping.summary)
    }
}
