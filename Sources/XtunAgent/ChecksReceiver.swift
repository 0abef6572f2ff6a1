import CLinux
import Glibc
import XtunChecks

/// A packet socket on xtun: sees every frame the stack receives from xtun,
/// so it tells whether a write() was injected.
final class PacketTap {
    let socket: Socket

    init(interface: Interface) throws {
        let everything = UInt16(ETH_P_ALL).bigEndian
        socket = try Socket(domain: AF_PACKET, type: Int32(SOCK_RAW.rawValue), proto: Int32(everything))
        var address = sockaddr_ll()
        address.sll_family = UInt16(AF_PACKET)
        address.sll_protocol = everything
        address.sll_ifindex = Int32(interface.attribute("ifindex") ?? "") ?? 0
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socket.fd, $0, socklen_t(MemoryLayout<sockaddr_ll>.size))
            }
        }
        try require(status == 0, expected: "a packet socket bound to xtun", got: Sys.lastError)
    }

    /// Lengths of the frames received (not sent) on xtun so far.
    func receivedLengths() -> [Int] {
        var lengths: [Int] = []
        var buffer = [UInt8](repeating: 0, count: 70000)
        while true {
            var address = sockaddr_ll()
            var size = socklen_t(MemoryLayout<sockaddr_ll>.size)
            let count = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    recvfrom(socket.fd, &buffer, buffer.count, Int32(MSG_DONTWAIT), $0, &size)
                }
            }
            if count < 0 { break }
            if address.sll_pkttype != UInt8(PACKET_OUTGOING) { lengths.append(count) }
        }
        return lengths
    }
}

/// Deterministic bytes for the "random" rows of the bad-write table.
struct SplitMix64 {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) }
    }
}

/// One row of the bad-write table.
struct WriteCase {
    let name: String
    let bytes: [UInt8]
    /// nil: accepted in full.
    let errno: Int32?
}

/// Stage 04: what a process writes to /dev/xtun enters the stack.
enum ReceiverChecks {
    /// An Ethernet frame from the peer to xtun with an EtherType no protocol
    /// handles (IEEE local experimental): accepted, then dropped by the stack.
    static func unhandledFrame(to mac: MACAddress, length: Int) -> [UInt8] {
        EthernetFrame(destination: mac, source: Lab.peerMAC, etherType: 0x88b5,
                      payload: [UInt8](repeating: 0, count: length - 14)).bytes
    }

    static func writeTable(mac: MACAddress) -> [WriteCase] {
        var random = SplitMix64(state: 0x7874_756e)
        var multicastSource = random.bytes(60)
        multicastSource[6] |= 1
        var unicastSource = random.bytes(60)
        unicastSource[6] = (unicastSource[6] & 0xfe) | 0x02
        return [
            WriteCase(name: "0 bytes", bytes: [], errno: EINVAL),
            WriteCase(name: "1 byte", bytes: [0], errno: EINVAL),
            WriteCase(name: "13 bytes", bytes: Array(unhandledFrame(to: mac, length: 14).prefix(13)), errno: EINVAL),
            WriteCase(name: "14 bytes (a bare Ethernet header)", bytes: unhandledFrame(to: mac, length: 14), errno: nil),
            WriteCase(name: "1514 bytes (MTU + header)", bytes: unhandledFrame(to: mac, length: 1514), errno: nil),
            WriteCase(name: "1515 bytes (MTU + header + 1)", bytes: unhandledFrame(to: mac, length: 1515), errno: EINVAL),
            WriteCase(name: "65536 bytes", bytes: unhandledFrame(to: mac, length: 65536), errno: EINVAL),
            WriteCase(name: "60 random bytes, multicast source", bytes: multicastSource, errno: EINVAL),
            WriteCase(name: "60 random bytes, unicast source", bytes: unicastSource, errno: nil),
        ]
    }

    static let all: [String: GuestCheck] = [
        Expectation.pollWritable.id: GuestCheck { session in
            try session.configureWithPeer()
            let file = try XtunFile.mustOpen()
            let outMask = Int16(POLLOUT)
            try require(file.poll(outMask, timeout: 0) & outMask != 0,
                        expected: "POLLOUT", got: "no POLLOUT")
            return "POLLOUT at once"
        },
        Expectation.arpReply.id: GuestCheck { session in
            try session.network.configure()
            let frames = try session.frames()
            let file = try XtunFile.mustOpen()
            let before = session.interface.counters
            let request = frames.arpRequestFromPeer()
            guard case .success(let written) = file.write(request), written == request.count else {
                throw Failure(expected: "write() of the \(request.count)-byte ARP request", got: Sys.lastError)
            }
            let (reply, skipped) = file.frame(matching: {
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
                        got: describeMismatch(got: reply, expected: expected))
            return "42-byte reply: 10.99.0.1 is-at \(frames.xtunMAC), to \(Lab.peerMAC)"
        },
        Expectation.icmpEchoReply.id: GuestCheck { session in
            try session.configureWithPeer()
            let frames = try session.frames()
            let file = try XtunFile.mustOpen()
            let data = payload(index: 7, length: 56)
            let request = frames.echoRequestFromPeer(identifier: 0x7874, sequence: 1, payload: data)
            guard case .success = file.write(request) else {
                throw Failure(expected: "write() of the echo request", got: Sys.lastError)
            }
            let (found, _) = file.frame(matching: { bytes in
                guard let frame = EthernetFrame(bytes: bytes), frame.etherType == EtherType.ipv4.rawValue,
                      let ip = IPv4Packet(bytes: frame.payload) else { return false }
                return ip.proto == IPv4Packet.Proto.icmp.rawValue && ip.payload.first == 0
            }, timeout: 2)
            guard let found, let frame = EthernetFrame(bytes: found), let ip = IPv4Packet(bytes: frame.payload),
                  let echo = ICMPEcho(bytes: ip.payload) else {
                throw Failure(expected: "an ICMP echo reply within 2 s", got: "none")
            }
            try require(frame.destination == Lab.peerMAC && frame.source == frames.xtunMAC,
                        expected: "\(frames.xtunMAC) > \(Lab.peerMAC)",
                        got: "\(frame.source) > \(frame.destination)")
            try require(ip.source == Lab.local && ip.destination == Lab.peer && ip.checksumIsValid,
                        expected: "10.99.0.1 > 10.99.0.2 with a valid IPv4 checksum",
                        got: "\(ip.source) > \(ip.destination), checksum valid: \(ip.checksumIsValid)")
            try require(echo.identifier == 0x7874 && echo.sequence == 1 && echo.payload == data,
                        expected: "id 0x7874, seq 1, the same 56-byte payload",
                        got: "id \(echo.identifier), seq \(echo.sequence), \(echo.payload.count)-byte payload")
            try require(ICMPEcho.checksumIsValid(ip.payload), expected: "a valid ICMP checksum",
                        got: "an invalid one")
            return "echo reply id 0x7874 seq 1, 56-byte payload, checksums valid"
        },
        Expectation.udpDelivered.id: GuestCheck { session in
            try session.network.configure()
            let frames = try session.frames()
            let socket = try Socket.udp()
            try socket.bind(Lab.local, port: 5555)
            let file = try XtunFile.mustOpen()
            let data = Array("xtun lab: written to /dev/xtun, received by a socket".utf8)
            let frame = frames.udpFromPeer(sourcePort: 6666, destinationPort: 5555, payload: data)
            guard case .success = file.write(frame) else {
                throw Failure(expected: "write() of the datagram", got: Sys.lastError)
            }
            guard let received = socket.receive(timeout: 2) else {
                throw Failure(expected: "the datagram at 10.99.0.1:5555 within 2 s", got: "nothing")
            }
            try require(received.bytes == data && received.from == Lab.peer && received.port == 6666,
                        expected: "\(data.count) bytes from 10.99.0.2:6666",
                        got: "\(received.bytes.count) bytes from \(received.from):\(received.port)")
            return "\(data.count) bytes from 10.99.0.2:6666"
        },
        Expectation.badWritesRejected.id: GuestCheck { session in
            try session.network.configure()
            let mac = try session.xtunMAC()
            let file = try XtunFile.mustOpen()
            let tap = try PacketTap(interface: session.interface)
            _ = tap.receivedLengths()
            let before = session.interface.counters
            var wrong: [String] = []
            for row in writeTable(mac: mac) {
                let result = file.write(row.bytes)
                switch (result, row.errno) {
                case (.success(let count), nil) where count == row.bytes.count: break
                case (.failure(let error), let code?) where error.code == code: break
                case (.success(let count), _):
                    wrong.append("\(row.name): wrote \(count), expected \(row.errno.map(Sys.errnoName) ?? "success")")
                case (.failure(let error), _):
                    wrong.append("\(row.name): \(Sys.errnoName(error.code)), expected \(row.errno.map(Sys.errnoName) ?? "success")")
                }
            }
            try require(wrong.isEmpty, expected: "every row's documented result", got: wrong.joined(separator: "; "))
            Sys.sleep(milliseconds: 200)
            let injected = tap.receivedLengths()
            try require(injected.sorted() == [14, 60, 1514],
                        expected: "only the 3 accepted frames (14, 60, 1514 bytes) seen by a packet socket",
                        got: "\(injected)")
            let delta = session.interface.counters.delta(since: before)
            let counted = ["rx_packets": 3, "rx_bytes": 14 + 1514 + 60, "rx_errors": 6,
                           "rx_length_errors": 5, "rx_frame_errors": 1]
            try require(delta == counted,
                        expected: Counters.describe(counted), got: Counters.describe(delta))
            try session.network.down()
            let whileDown = file.write(unhandledFrame(to: mac, length: 60))
            guard case .failure(let error) = whileDown, error.code == EIO else {
                throw Failure(expected: "EIO for a write while xtun is down", got: "\(whileDown)")
            }
            return "9 rows as documented, \(Counters.describe(delta)); EIO while down"
        },
        Expectation.concurrentReadWrite.id: GuestCheck { session in
            try session.configureWithPeer()
            let frames = try session.frames()
            let receiver = try Socket.udp()
            try receiver.set(SOL_SOCKET, 33 /* SO_RCVBUFFORCE */, 64 << 20)
            try receiver.bind(Lab.local, port: 7000)
            let file = try XtunFile.mustOpen()
            let writers = 4, perWriter = 2_500, transmitted = 1_000
            let before = session.interface.counters

            let receiving = Worker { () -> Set<String> in
                var seen = Set<String>()
                while seen.count < writers * perWriter, let datagram = receiver.receive(timeout: 5) {
                    seen.insert(String(decoding: datagram.bytes.prefix(16), as: UTF8.self))
                }
                return seen
            }
            let reading = Worker { () -> Int in
                var count = 0
                while count < transmitted, let frame = file.nextFrame(timeout: 5) {
                    if frame.count == 42 + 32 { count += 1 }
                }
                return count
            }
            let writing = (0..<writers).map { writer in
                Worker { () -> Int in
                    var failures = 0
                    for index in 0..<perWriter {
                        let data = Array("w\(writer)-\(index)".utf8) + [UInt8](repeating: 0, count: 16)
                        let frame = frames.udpFromPeer(sourcePort: UInt16(7100 + writer), destinationPort: 7000,
                                                       payload: Array(data.prefix(16)))
                        if case .failure = file.write(frame) { failures += 1 }
                    }
                    return failures
                }
            }
            let sending = Worker { () -> Int in
                guard let sender = try? UDPSender(port: 7200) else { return -1 }
                return (try? sender.sendNumbered(transmitted)) == nil ? -1 : transmitted
            }
            let writeFailures = writing.map { $0.join() }.reduce(0, +)
            let sent = sending.join()
            let read = reading.join()
            let seen = receiving.join()
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
