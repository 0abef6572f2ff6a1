import Glibc
import XtunChecks

/// Stage 02: open, stop, and a transmit that counts and frees.
enum TransmitChecks {
    /// What ping itself says when it sends fast on a fresh socket: the
    /// article's symptom, reproduced.
    static func pingFlood(_ session: Session) -> String {
        let before = session.interface.statistic("tx_packets")
        let ping = Command.run(["ping", "-I", "xtun", "-c", "2000", "-i", "0.001", "-q", "\(Lab.peer)"],
                               timeout: 30)
        let sent = session.interface.statistic("tx_packets") - before
        let message = ping.output.split(separator: "\n").first { $0.hasPrefix("ping:") }
        return "then `ping -c 2000 -i 0.001` sent \(sent) and said: "
            + (message.map(String.init) ?? ping.summary)
    }

    static let all: [String: GuestCheck] = [
        Expectation.upDownRepeat.id: GuestCheck { session in
            let mark = session.log.mark
            for round in 1...3 {
                try session.network.up()
                try require(session.interface.isUp, expected: "xtun up in round \(round)",
                            got: "flags \(session.interface.attribute("flags") ?? "?")")
                try session.network.down()
                try require(!session.interface.isUp, expected: "xtun down in round \(round)",
                            got: "flags \(session.interface.attribute("flags") ?? "?")")
            }
            let lines = session.log.since(mark)
            let opens = lines.filter { $0.hasSuffix("xtun: open") }.count
            let stops = lines.filter { $0.hasSuffix("xtun: stop") }.count
            try require(opens == 3 && stops == 3,
                        expected: "the driver to log \"xtun: open\" and \"xtun: stop\" 3 times each",
                        got: "\(opens) open, \(stops) stop")
            return "3 rounds; ndo_open and ndo_stop each logged 3 times"
        },
        Expectation.pingSendsArp.id: GuestCheck { session in
            try session.network.configure()
            let before = session.interface.counters
            let started = Sys.now()
            let ping = Command.run(["ping", "-I", "xtun", "-c", "1", "-W", "4", "\(Lab.peer)"], timeout: 15)
            // The neighbour gives up after 3 probes, 1 s apart.
            let remaining = 3.5 - (Sys.now() - started)
            if remaining > 0 { Sys.sleep(milliseconds: Int(remaining * 1000)) }
            let delta = session.interface.counters.delta(since: before)
            let packets = delta["tx_packets"] ?? 0
            let bytes = delta["tx_bytes"] ?? 0
            try require(packets == 3 && bytes == 3 * 42,
                        expected: "3 ARP requests of 42 bytes (tx_packets +3, tx_bytes +126)",
                        got: Counters.describe(delta) + "; ping: \(ping.summary)")
            return "tx_packets +3, tx_bytes +126: three 42-byte ARP requests, no ICMP"
        },
        Expectation.pingSendsIcmp.id: GuestCheck { session in
            try session.configureWithPeer()
            let before = session.interface.counters
            let ping = Command.run(["ping", "-I", "xtun", "-c", "4", "-W", "1", "\(Lab.peer)"], timeout: 20)
            let delta = session.interface.counters.delta(since: before)
            try require(delta["tx_packets"] == 4 && delta["tx_bytes"] == 4 * 98,
                        expected: "4 echo requests of 98 bytes (tx_packets +4, tx_bytes +392)",
                        got: Counters.describe(delta) + "; ping: \(ping.summary)")
            return "tx_packets +4, tx_bytes +392"
        },
        Expectation.sustainedTraffic.id: GuestCheck { session in
            try session.configureWithPeer()
            let socket = try Socket.icmpRaw()
            let total = 10_000
            let before = session.interface.counters
            for index in 0..<total {
                let echo = Frames.echoRequest(identifier: 0x7874, sequence: UInt16(truncatingIfNeeded: index))
                if let error = socket.send(echo, to: Lab.peer) {
                    let delta = session.interface.counters.delta(since: before)
                    throw Failure(
                        expected: "\(total) sendto() calls to succeed",
                        got: "sendto #\(index + 1) failed with \(Sys.errnoName(error)); "
                            + "\(Counters.describe(delta)); \(pingFlood(session))")
                }
            }
            let delta = session.interface.counters.delta(since: before)
            try require(delta["tx_packets"] == total && delta["tx_bytes"] == total * 98,
                        expected: "tx_packets +\(total), tx_bytes +\(total * 98)",
                        got: Counters.describe(delta))
            return "tx_packets +\(total), tx_bytes +\(total * 98), no errors"
        },
        Expectation.unloadWhileUp.id: GuestCheck { session in
            try session.configureWithPeer()
            guard let ping = Command.start(["ping", "-I", "xtun", "-i", "0.2", "\(Lab.peer)"]) else {
                throw Failure(expected: "ping to start", got: "cannot run ping")
            }
            let before = session.interface.statistic("tx_packets")
            Sys.sleep(milliseconds: 1000)
            let sending = session.interface.statistic("tx_packets") > before
            let unload = session.module.unload()
            _ = ping.kill()
            try require(unload.succeeded, expected: "rmmod to exit 0 while xtun is up",
                        got: unload.summary)
            try require(sending, expected: "ping to be transmitting on xtun", got: "tx_packets did not move")
            try require(!session.interface.exists, expected: "xtun gone", got: "still there")
            return "rmmod exit 0 while ping was sending"
        },
    ]
}
