/// The frames the peer would send to xtun and the frames xtun should send
/// to the peer, for xtun's (random) MAC address.
public struct Frames: Sendable {
    public let xtunMAC: MACAddress

    public init(xtunMAC: MACAddress) { self.xtunMAC = xtunMAC }

    /// A UDP datagram from 10.99.0.1, as xtun transmits it to the peer.
    public func udpFromLocal(sourcePort: UInt16, destinationPort: UInt16, payload: [UInt8]) -> [UInt8] {
        udp(from: LabNetwork.local, to: LabNetwork.peer, sourcePort: sourcePort, destinationPort: destinationPort,
            payload: payload, ethernetSource: xtunMAC, ethernetDestination: LabNetwork.peerMAC)
    }

    /// A UDP datagram from the peer to 10.99.0.1, as written into /dev/xtun.
    public func udpFromPeer(sourcePort: UInt16, destinationPort: UInt16, payload: [UInt8]) -> [UInt8] {
        udp(from: LabNetwork.peer, to: LabNetwork.local, sourcePort: sourcePort, destinationPort: destinationPort,
            payload: payload, ethernetSource: LabNetwork.peerMAC, ethernetDestination: xtunMAC)
    }

    public func arpRequestFromPeer() -> [UInt8] {
        let arp = ARPPacket(operation: .request, senderMAC: LabNetwork.peerMAC, senderIP: LabNetwork.peer,
                            targetMAC: .zero, targetIP: LabNetwork.local)
        return EthernetFrame(destination: .broadcast, source: LabNetwork.peerMAC,
                             etherType: EtherType.arp.rawValue, payload: arp.bytes).bytes
    }

    public func expectedArpReply() -> [UInt8] {
        let arp = ARPPacket(operation: .reply, senderMAC: xtunMAC, senderIP: LabNetwork.local,
                            targetMAC: LabNetwork.peerMAC, targetIP: LabNetwork.peer)
        return EthernetFrame(destination: LabNetwork.peerMAC, source: xtunMAC,
                             etherType: EtherType.arp.rawValue, payload: arp.bytes).bytes
    }

    /// An echo request from the peer to 10.99.0.1, sent to `destination`'s
    /// MAC address (xtun's unless said).
    public func echoRequestFromPeer(identifier: UInt16, sequence: UInt16, payload: [UInt8],
                                    to destination: MACAddress? = nil) -> [UInt8] {
        let icmp = ICMPEcho(kind: .request, identifier: identifier, sequence: sequence, payload: payload)
        let ip = IPv4Packet(proto: .icmp, source: LabNetwork.peer, destination: LabNetwork.local, payload: icmp.bytes)
        return EthernetFrame(destination: destination ?? xtunMAC, source: LabNetwork.peerMAC,
                             etherType: EtherType.ipv4.rawValue, payload: ip.bytes).bytes
    }

    /// The echo identifier of an ICMP echo frame (request or reply), if it is one.
    public static func echoIdentifier(_ bytes: [UInt8]) -> (kind: UInt8, identifier: UInt16)? {
        guard let frame = EthernetFrame(bytes: bytes), frame.etherType == EtherType.ipv4.rawValue,
              let ip = IPv4Packet(bytes: frame.payload), ip.proto == IPv4Packet.Proto.icmp.rawValue,
              let echo = ICMPEcho(bytes: ip.payload) else { return nil }
        return (echo.type, echo.identifier)
    }

    /// A frame from the peer to `destination` that no protocol handles
    /// (`EtherType.localExperimental`), `length` bytes long in all.
    public static func unhandled(to destination: MACAddress, length: Int) -> [UInt8] {
        EthernetFrame(destination: destination, source: LabNetwork.peerMAC,
                      etherType: EtherType.localExperimental.rawValue,
                      payload: [UInt8](repeating: 0, count: max(length - EthernetFrame.headerLength, 0))).bytes
    }

    /// An ICMP echo request as ping sends it (no IP header: the kernel adds it).
    public static func echoRequest(identifier: UInt16, sequence: UInt16) -> [UInt8] {
        ICMPEcho(kind: .request, identifier: identifier, sequence: sequence,
                 payload: [UInt8](repeating: 0x5a, count: FrameSize.pingPayload)).bytes
    }

    private func udp(from source: IPv4Address, to destination: IPv4Address, sourcePort: UInt16,
                     destinationPort: UInt16, payload: [UInt8], ethernetSource: MACAddress,
                     ethernetDestination: MACAddress) -> [UInt8] {
        var ip = IPv4Packet(proto: .udp, source: source, destination: destination, payload: [])
        let udp = UDPDatagram(sourcePort: sourcePort, destinationPort: destinationPort, payload: payload)
        ip.payload = udp.bytes(in: ip)
        return EthernetFrame(destination: ethernetDestination, source: ethernetSource,
                             etherType: EtherType.ipv4.rawValue, payload: ip.bytes).bytes
    }
}
