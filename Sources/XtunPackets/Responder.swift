/// A small userspace host behind /dev/xtun: it answers, for one IPv4
/// address, ARP requests, ICMP echo requests and datagrams to a UDP echo
/// port (RFC 862), and ignores everything else (no TCP). Pure: a frame in,
/// the answer out; whoever owns the device reads and writes.
public struct Responder: Sendable {
    public let address: IPv4Address
    public let mac: MACAddress
    /// The UDP echo service's port.
    public let echoPort: UInt16

    /// RFC 862's echo port.
    public static let standardEchoPort: UInt16 = 7

    public init(address: IPv4Address = LabNetwork.peer, mac: MACAddress = LabNetwork.peerMAC,
                echoPort: UInt16 = Responder.standardEchoPort) {
        self.address = address
        self.mac = mac
        self.echoPort = echoPort
    }

    /// What it did with a frame, for its log.
    public enum Handling: Sendable, Equatable {
        case answeredARP, answeredPing, echoedUDP
        /// Not for it, or not a protocol it speaks: why.
        case ignored(String)
    }

    /// The answer to `bytes`, if it deserves one.
    public func answer(_ bytes: [UInt8]) -> (frame: [UInt8]?, handling: Handling) {
        guard let frame = EthernetFrame(bytes: bytes) else { return (nil, .ignored("shorter than an Ethernet header")) }
        guard frame.destination == mac || frame.destination.isMulticast else {
            return (nil, .ignored("for another MAC address, \(frame.destination)"))
        }
        switch frame.etherType {
        case EtherType.arp.rawValue: return answerARP(frame)
        case EtherType.ipv4.rawValue: return answerIPv4(frame)
        default: return (nil, .ignored("ethertype 0x\(String(frame.etherType, radix: 16))"))
        }
    }

    private func answerARP(_ frame: EthernetFrame) -> (frame: [UInt8]?, handling: Handling) {
        guard let request = ARPPacket(bytes: frame.payload), request.operation == ARPPacket.Operation.request.rawValue,
              request.targetIP == address else { return (nil, .ignored("ARP not asking for \(address)")) }
        let reply = ARPPacket(operation: .reply, senderMAC: mac, senderIP: address,
                              targetMAC: request.senderMAC, targetIP: request.senderIP)
        return (ethernet(to: request.senderMAC, .arp, reply.bytes), .answeredARP)
    }

    private func answerIPv4(_ frame: EthernetFrame) -> (frame: [UInt8]?, handling: Handling) {
        guard let ip = IPv4Packet(bytes: frame.payload), ip.checksumIsValid, ip.destination == address,
              ip.flagsAndOffset & 0x3fff == 0 else { return (nil, .ignored("IPv4 not for \(address), or a fragment")) }
        switch ip.proto {
        case IPv4Packet.Proto.icmp.rawValue:
            guard ICMPEcho.checksumIsValid(ip.payload), let echo = ICMPEcho(bytes: ip.payload),
                  echo.type == ICMPEcho.Kind.request.rawValue else { return (nil, .ignored("ICMP but not an echo request")) }
            let reply = ICMPEcho(kind: .reply, identifier: echo.identifier, sequence: echo.sequence, payload: echo.payload)
            return (ethernet(to: frame.source, .ipv4, answer(to: ip, .icmp, reply.bytes).bytes), .answeredPing)
        case IPv4Packet.Proto.udp.rawValue:
            guard UDPDatagram.checksumIsValid(ip.payload, in: ip), let datagram = UDPDatagram(bytes: ip.payload),
                  datagram.destinationPort == echoPort else { return (nil, .ignored("UDP not for port \(echoPort)")) }
            let echoed = UDPDatagram(sourcePort: echoPort, destinationPort: datagram.sourcePort, payload: datagram.payload)
            var reply = answer(to: ip, .udp, [])
            reply.payload = echoed.bytes(in: reply)
            reply.totalLength = UInt16(IPv4Packet.headerLength + reply.payload.count)
            return (ethernet(to: frame.source, .ipv4, reply.bytes), .echoedUDP)
        default:
            return (nil, .ignored("IP protocol \(ip.proto)"))
        }
    }

    private func answer(to ip: IPv4Packet, _ proto: IPv4Packet.Proto, _ payload: [UInt8]) -> IPv4Packet {
        var reply = IPv4Packet(proto: proto, source: address, destination: ip.source, payload: payload)
        reply.identification = ip.identification
        return reply
    }

    private func ethernet(to destination: MACAddress, _ type: EtherType, _ payload: [UInt8]) -> [UInt8] {
        EthernetFrame(destination: destination, source: mac, etherType: type.rawValue, payload: payload).bytes
    }
}
