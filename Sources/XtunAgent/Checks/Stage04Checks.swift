import CLinux
import Glibc
import XtunChecks
import XtunPackets

/// One row of the bad-write table.
struct WriteCase {
    let name: String
    let bytes: [UInt8]
    /// nil: accepted in full.
    let errno: Int32?
    /// The error counter a rejected write adds to, besides rx_errors.
    var counter: String? { errno == nil ? nil : name.contains("source") ? "rx_frame_errors" : "rx_length_errors" }

    /// The table for a device whose interface has address `mac`: lengths at
    /// and around the limits, and random bytes with a group or a station
    /// source address (seeded: the same bytes every run).
    static func table(mac: MACAddress, mtu: Int = Int(ETH_DATA_LEN)) -> [WriteCase] {
        var random = SeededRandom(seed: 0x7874_756e)
        var multicastSource = random.bytes(60)
        multicastSource[6] |= 1
        var unicastSource = random.bytes(60)
        unicastSource[6] = (unicastSource[6] & 0xfe) | 0x02
        let header = EthernetFrame.headerLength
        return [
            WriteCase(name: "0 bytes", bytes: [], errno: EINVAL),
            WriteCase(name: "1 byte", bytes: [0], errno: EINVAL),
            WriteCase(name: "\(header - 1) bytes", bytes: Array(Frames.unhandled(to: mac, length: header).prefix(header - 1)),
                      errno: EINVAL),
            WriteCase(name: "\(header) bytes (a bare Ethernet header)", bytes: Frames.unhandled(to: mac, length: header),
                      errno: nil),
            WriteCase(name: "\(mtu + header) bytes (MTU + header)", bytes: Frames.unhandled(to: mac, length: mtu + header),
                      errno: nil),
            WriteCase(name: "\(mtu + header + 1) bytes (MTU + header + 1)",
                      bytes: Frames.unhandled(to: mac, length: mtu + header + 1), errno: EINVAL),
            WriteCase(name: "65536 bytes", bytes: Frames.unhandled(to: mac, length: 65536), errno: EINVAL),
            WriteCase(name: "60 random bytes, multicast source", bytes: multicastSource, errno: EINVAL),
            WriteCase(name: "60 random bytes, unicast source", bytes: unicastSource, errno: nil),
        ]
    }
}

/// The rx-classification table: the same request to four destination
/// addresses, and an ARP request for 10.99.0.1 sent to another host.
enum Classification {
    struct Row {
        let destination: String
        let frame: [UInt8]
        let packetType: UInt8
        let answered: Bool
        let matchesRequest: ([UInt8]) -> Bool
        let matchesAnswer: ([UInt8]) -> Bool
    }

    static func name(_ type: UInt8) -> String {
        switch Int32(type) {
        case PACKET_HOST: "PACKET_HOST"
        case PACKET_BROADCAST: "PACKET_BROADCAST"
        case PACKET_MULTICAST: "PACKET_MULTICAST"
        case PACKET_OTHERHOST: "PACKET_OTHERHOST"
        default: "packet type \(type)"
        }
    }

    static func rows(xtunMAC: MACAddress) -> [Row] {
        let frames = Frames(xtunMAC: xtunMAC)
        let echoes: [(String, MACAddress, UInt16, Int32, Bool)] = [
            ("xtun's MAC", xtunMAC, 0x7101, PACKET_HOST, true),
            ("another host's MAC", LabNetwork.otherHostMAC, 0x7102, PACKET_OTHERHOST, false),
            ("the broadcast MAC", .broadcast, 0x7103, PACKET_BROADCAST, true),
            ("a multicast MAC", LabNetwork.allHostsMAC, 0x7104, PACKET_MULTICAST, true),
        ]
        var rows = echoes.map { name, mac, identifier, type, answered in
            Row(destination: name,
                frame: frames.echoRequestFromPeer(identifier: identifier, sequence: 1,
                                                  payload: NumberedPayload.make(index: Int(identifier), length: 32),
                                                  to: mac),
                packetType: UInt8(type), answered: answered,
                matchesRequest: { Frames.echoIdentifier($0).map { $0 == (ICMPEcho.Kind.request.rawValue, identifier) } ?? false },
                matchesAnswer: { Frames.echoIdentifier($0).map { $0 == (ICMPEcho.Kind.reply.rawValue, identifier) } ?? false })
        }
        var arp = EthernetFrame(bytes: frames.arpRequestFromPeer())!
        arp.destination = LabNetwork.otherHostMAC
        let isARP = { (bytes: [UInt8], operation: ARPPacket.Operation) -> Bool in
            guard let frame = EthernetFrame(bytes: bytes), frame.etherType == EtherType.arp.rawValue,
                  let packet = ARPPacket(bytes: frame.payload) else { return false }
            return packet.operation == operation.rawValue
        }
        rows.append(Row(destination: "an ARP request to another host's MAC", frame: arp.bytes,
                        packetType: UInt8(PACKET_OTHERHOST), answered: false,
                        matchesRequest: { isARP($0, .request) }, matchesAnswer: { isARP($0, .reply) }))
        return rows
    }
}

/// Stage 04 (`XtunChecks/Stages/Stage04Rx.swift`): what a process writes to
/// /dev/xtun enters the stack.
enum Stage04Checks {
    static let all: [GuestCheck] = [
        GuestCheck(.pollWritable) { session in
            try session.configureWithPeer()
            let device = try session.openDevice()
            let outMask = Int16(POLLOUT)
            try require(device.poll(outMask, timeout: 0) & outMask != 0,
                        expected: "POLLOUT", got: "no POLLOUT")
            return "POLLOUT at once"
        },
        GuestCheck(.arpReply) { session in
            try session.network.configure()
            let frames = try session.frames()
            let device = try session.openDevice()
            let before = session.interface.counters
            let request = frames.arpRequestFromPeer()
            try device.mustWrite(request, "the \(request.count)-byte ARP request")
            let (reply, skipped) = device.frame(matching: {
                EthernetFrame(bytes: $0)?.etherType == EtherType.arp.rawValue
            }, timeout: 2)
            guard let reply else {
                let delta = session.interface.counters.delta(since: before)
                throw Failure(expected: "an ARP reply within 2 s",
                              got: "none; the request went in and nothing came back: \(Counters.describe(delta))"
                                + (skipped.isEmpty ? "" : "; \(skipped.count) other frames"))
            }
            let expected = frames.expectedArpReply()
            try require(reply == expected, expected: hexDump(expected),
                        got: FrameComparison.describe(got: reply, expected: expected))
            return "\(reply.count)-byte reply: \(LabNetwork.local) is-at \(frames.xtunMAC), to \(LabNetwork.peerMAC)"
        },
        GuestCheck(.icmpEchoReply) { session in
            try session.configureWithPeer()
            let frames = try session.frames()
            let device = try session.openDevice()
            let data = NumberedPayload.make(index: 7, length: FrameSize.pingPayload)
            let identifier: UInt16 = 0x7874
            try device.mustWrite(frames.echoRequestFromPeer(identifier: identifier, sequence: 1, payload: data),
                                 "the echo request")
            let (found, _) = device.frame(matching: { bytes in
                guard let frame = EthernetFrame(bytes: bytes), frame.etherType == EtherType.ipv4.rawValue,
                      let ip = IPv4Packet(bytes: frame.payload) else { return false }
                return ip.proto == IPv4Packet.Proto.icmp.rawValue && ip.payload.first == ICMPEcho.Kind.reply.rawValue
            }, timeout: 2)
            guard let found, let frame = EthernetFrame(bytes: found), let ip = IPv4Packet(bytes: frame.payload),
                  let echo = ICMPEcho(bytes: ip.payload) else {
                throw Failure(expected: "an ICMP echo reply within 2 s", got: "none")
            }
            try require(frame.destination == LabNetwork.peerMAC && frame.source == frames.xtunMAC,
                        expected: "\(frames.xtunMAC) > \(LabNetwork.peerMAC)",
                        got: "\(frame.source) > \(frame.destination)")
            try require(ip.source == LabNetwork.local && ip.destination == LabNetwork.peer && ip.checksumIsValid,
                        expected: "\(LabNetwork.local) > \(LabNetwork.peer) with a valid IPv4 checksum",
                        got: "\(ip.source) > \(ip.destination), checksum valid: \(ip.checksumIsValid)")
            try require(echo.identifier == identifier && echo.sequence == 1 && echo.payload == data,
                        expected: "id 0x7874, seq 1, the same \(data.count)-byte payload",
                        got: "id \(echo.identifier), seq \(echo.sequence), \(echo.payload.count)-byte payload")
            try require(ICMPEcho.checksumIsValid(ip.payload), expected: "a valid ICMP checksum",
                        got: "an invalid one")
            return "echo reply id 0x7874 seq 1, \(data.count)-byte payload, checksums valid"
        },
        GuestCheck(.udpDelivered) { session in
            try session.network.configure()
            let frames = try session.frames()
            let socket = try Socket.udp()
            let port: UInt16 = 5555, peerPort: UInt16 = 6666
            try socket.bind(LabNetwork.local, port: port)
            let device = try session.openDevice()
            let data = Array("xtun lab: written to /dev/xtun, received by a socket".utf8)
            try device.mustWrite(frames.udpFromPeer(sourcePort: peerPort, destinationPort: port, payload: data),
                                 "the datagram")
            guard let received = socket.receive(timeout: 2) else {
                throw Failure(expected: "the datagram at \(LabNetwork.local):\(port) within 2 s", got: "nothing")
            }
            try require(received.bytes == data && received.from == LabNetwork.peer && received.port == peerPort,
                        expected: "\(data.count) bytes from \(LabNetwork.peer):\(peerPort)",
                        got: "\(received.bytes.count) bytes from \(received.from):\(received.port)")
            return "\(data.count) bytes from \(LabNetwork.peer):\(peerPort)"
        },
        GuestCheck(.rxClassification) { session in
            try session.configureWithPeer()
            let frames = try session.frames()
            let device = try session.openDevice()
            let tap = try PacketTap(interface: session.interface)
            _ = tap.received()
            let before = session.interface.counters
            let rows = Classification.rows(xtunMAC: frames.xtunMAC)
            var written = 0
            for row in rows {
                try device.mustWrite(row.frame, "the frame to \(row.destination)")
                written += row.frame.count
            }
            // Every answer comes within moments; wait long enough to see one that should not come.
            var answers: [[UInt8]] = []
            let deadline = Sys.now() + 1.5
            while Sys.now() < deadline, let frame = device.nextFrame(timeout: max(deadline - Sys.now(), 0.01)) {
                answers.append(frame)
            }
            let seen = tap.received()
            var wrong: [String] = []
            for row in rows {
                let type = seen.first { row.matchesRequest($0.bytes) }?.type
                if type != row.packetType {
                    wrong.append("\(row.destination): the stack saw \(type.map(Classification.name) ?? "nothing"), "
                        + "expected \(Classification.name(row.packetType))")
                }
                let answered = answers.contains(where: row.matchesAnswer)
                if answered != row.answered {
                    wrong.append("\(row.destination): " + (answered ? "answered, expected no answer" : "no answer"))
                }
            }
            try require(wrong.isEmpty, expected: "each frame classified and answered as documented",
                        got: wrong.joined(separator: "; "))
            let delta = session.interface.counters.delta(since: before)
            let counted = ["rx_packets": rows.count, "rx_bytes": written,
                           "multicast": rows.filter { $0.packetType == UInt8(PACKET_MULTICAST) }.count]
            let answeredCount = rows.filter(\.answered).count
            let sent = delta.filter { $0.key.hasPrefix("tx_") }
            try require(delta.filter { !$0.key.hasPrefix("tx_") } == counted,
                        expected: Counters.describe(counted), got: Counters.describe(delta))
            return "\(rows.count) frames in, \(answeredCount) answered; "
                + rows.map { "\($0.destination): \(Classification.name($0.packetType))" }.joined(separator: ", ")
                + "; \(Counters.describe(counted)), \(Counters.describe(sent))"
        },
        GuestCheck(.badWritesRejected) { session in
            try session.network.configure()
            let mac = try session.mac()
            let device = try session.openDevice()
            let tap = try PacketTap(interface: session.interface)
            _ = tap.receivedLengths()
            let before = session.interface.counters
            var wrong: [String] = []
            let table = WriteCase.table(mac: mac)
            for row in table {
                let result = device.write(row.bytes)
                let want = row.errno.map { "\(Errno(code: $0))" } ?? "success"
                switch (result, row.errno) {
                case (.success(let count), nil) where count == row.bytes.count: break
                case (.failure(let error), let code?) where error.code == code: break
                case (.success(let count), _): wrong.append("\(row.name): wrote \(count), expected \(want)")
                case (.failure(let error), _): wrong.append("\(row.name): \(error), expected \(want)")
                }
            }
            try require(wrong.isEmpty, expected: "every row's documented result", got: wrong.joined(separator: "; "))
            Sys.sleep(milliseconds: 200)
            let injected = tap.receivedLengths()
            let accepted = table.filter { $0.errno == nil }.map(\.bytes.count)
            try require(injected.sorted() == accepted.sorted(),
                        expected: "only the \(accepted.count) accepted frames (\(accepted.sorted()) bytes) seen by a packet socket",
                        got: "\(injected)")
            let delta = session.interface.counters.delta(since: before)
            var counted = ["rx_packets": accepted.count, "rx_bytes": accepted.reduce(0, +),
                           "rx_errors": table.count - accepted.count]
            for case let counter? in table.map(\.counter) { counted[counter, default: 0] += 1 }
            try require(delta == counted,
                        expected: Counters.describe(counted), got: Counters.describe(delta))
            try session.network.down()
            let whileDown = device.write(Frames.unhandled(to: mac, length: 60))
            guard case .failure(let error) = whileDown, error.code == EIO else {
                throw Failure(expected: "EIO for a write while \(session.interface.name) is down", got: "\(whileDown)")
            }
            return "\(table.count) rows as documented, \(Counters.describe(delta)); EIO while down"
        },
        GuestCheck(.concurrentReadWrite) { session in
            try session.configureWithPeer()
            let frames = try session.frames()
            let receiver = try Socket.udp()
            try receiver.set(SOL_SOCKET, SO_RCVBUFFORCE, 64 << 20, "SO_RCVBUFFORCE")
            let port: UInt16 = 7000
            try receiver.bind(LabNetwork.local, port: port)
            let device = try session.openDevice()
            let writers = 4, perWriter = 2_500, transmitted = 1_000
            let payloadLength = 16, transmittedLength = 32
            let before = session.interface.counters

            let receiving = Worker { () -> Set<String> in
                var seen = Set<String>()
                while seen.count < writers * perWriter, let datagram = receiver.receive(timeout: 5) {
                    seen.insert(String(decoding: datagram.bytes.prefix(payloadLength), as: UTF8.self))
                }
                return seen
            }
            let reading = Worker { () -> Int in
                var count = 0
                while count < transmitted, let frame = device.nextFrame(timeout: 5) {
                    if frame.count == FrameSize.udpOverhead + transmittedLength { count += 1 }
                }
                return count
            }
            let writing = (0..<writers).map { writer in
                Worker { () -> Int in
                    var failures = 0
                    for index in 0..<perWriter {
                        let data = Array("w\(writer)-\(index)".utf8) + [UInt8](repeating: 0, count: payloadLength)
                        let frame = frames.udpFromPeer(sourcePort: UInt16(7100 + writer), destinationPort: port,
                                                       payload: Array(data.prefix(payloadLength)))
                        if case .failure = device.write(frame) { failures += 1 }
                    }
                    return failures
                }
            }
            let sending = Worker { () -> Int in
                guard let sender = try? UDPSender(port: 7200) else { return -1 }
                return (try? sender.sendNumbered(transmitted, length: transmittedLength)) == nil ? -1 : transmitted
            }
            let limit = 30 * session.timeScale
            let writeFailures = try writing.map { try $0.mustJoin(timeout: limit, "a writer") }.reduce(0, +)
            let sent = try sending.mustJoin(timeout: limit, "the sender")
            let read = try reading.mustJoin(timeout: limit, "the reader")
            let seen = try receiving.mustJoin(timeout: limit, "the receiving socket")
            let delta = session.interface.counters.delta(since: before)
            try require(writeFailures == 0 && sent == transmitted,
                        expected: "every write() and send to succeed",
                        got: "\(writeFailures) failed writes, sender: \(sent)")
            try require(seen.count == writers * perWriter && read == transmitted,
                        expected: "\(writers * perWriter) datagrams at the socket, \(transmitted) frames read",
                        got: "\(seen.count) at the socket, \(read) read; \(Counters.describe(delta))")
            try require(delta["rx_dropped"] == nil && delta["tx_dropped"] == nil,
                        expected: "no drops", got: Counters.describe(delta))
            return "\(writers) writers x \(perWriter) in, \(transmitted) out, nothing lost"
        },
    ]
}
