import Testing
@testable import XtunPackets

@Suite("The userspace responder")
struct ResponderTests {
    let frames = Frames(xtunMAC: MACAddress([0x02, 0xaa, 0, 0, 0, 1]))
    let responder = Responder()

    @Test func answersARPForItsAddressOnly() throws {
        var request = ARPPacket(operation: .request, senderMAC: frames.xtunMAC, senderIP: LabNetwork.local,
                                targetMAC: .zero, targetIP: LabNetwork.peer)
        let frame = EthernetFrame(destination: .broadcast, source: frames.xtunMAC, etherType: EtherType.arp.rawValue,
                                  payload: request.bytes)
        let (answer, handling) = responder.answer(frame.bytes)
        #expect(handling == .answeredARP)
        let reply = try #require(answer.flatMap(EthernetFrame.init(bytes:)))
        let arp = try #require(ARPPacket(bytes: reply.payload))
        #expect(reply.destination == frames.xtunMAC && arp.senderMAC == LabNetwork.peerMAC)
        #expect(arp.operation == ARPPacket.Operation.reply.rawValue && arp.targetIP == LabNetwork.local)

        request.targetIP = IPv4Address(10, 99, 0, 3)
        let other = EthernetFrame(destination: .broadcast, source: frames.xtunMAC, etherType: EtherType.arp.rawValue,
                                  payload: request.bytes)
        #expect(responder.answer(other.bytes).frame == nil)
    }

    @Test func answersPingWithTheSameIdentifierSequenceAndPayload() throws {
        let echo = ICMPEcho(kind: .request, identifier: 7, sequence: 3, payload: [1, 2, 3])
        let ip = IPv4Packet(proto: .icmp, source: LabNetwork.local, destination: LabNetwork.peer, payload: echo.bytes)
        let frame = EthernetFrame(destination: LabNetwork.peerMAC, source: frames.xtunMAC,
                                  etherType: EtherType.ipv4.rawValue, payload: ip.bytes)
        let (answer, handling) = responder.answer(frame.bytes)
        #expect(handling == .answeredPing)
        let reply = try #require(answer.flatMap(EthernetFrame.init(bytes:)).flatMap { IPv4Packet(bytes: $0.payload) })
        #expect(reply.checksumIsValid && reply.destination == LabNetwork.local)
        #expect(ICMPEcho.checksumIsValid(reply.payload))
        let pong = try #require(ICMPEcho(bytes: reply.payload))
        #expect(pong.type == ICMPEcho.Kind.reply.rawValue && pong.identifier == 7 && pong.sequence == 3)
        #expect(pong.payload == [1, 2, 3])
    }

    @Test(arguments: [1, 512, 1472])
    func echoesUDPByteExact(_ length: Int) throws {
        let payload = NumberedPayload.make(index: length, length: length)
        var ip = IPv4Packet(proto: .udp, source: LabNetwork.local, destination: LabNetwork.peer, payload: [])
        ip.payload = UDPDatagram(sourcePort: 40000, destinationPort: 7, payload: payload).bytes(in: ip)
        let frame = EthernetFrame(destination: LabNetwork.peerMAC, source: frames.xtunMAC,
                                  etherType: EtherType.ipv4.rawValue, payload: IPv4Packet(
                                      proto: .udp, source: ip.source, destination: ip.destination, payload: ip.payload).bytes)
        let (answer, handling) = responder.answer(frame.bytes)
        #expect(handling == .echoedUDP)
        let reply = try #require(answer.flatMap(EthernetFrame.init(bytes:)).flatMap { IPv4Packet(bytes: $0.payload) })
        #expect(UDPDatagram.checksumIsValid(reply.payload, in: reply))
        let datagram = try #require(UDPDatagram(bytes: reply.payload))
        #expect(datagram.payload == payload && datagram.sourcePort == 7 && datagram.destinationPort == 40000)
    }

    @Test func ignoresFramesForAnotherMACAndOtherPorts() {
        let frame = EthernetFrame(destination: LabNetwork.otherHostMAC, source: frames.xtunMAC,
                                  etherType: EtherType.arp.rawValue, payload: [])
        #expect(responder.answer(frame.bytes).frame == nil)
        var ip = IPv4Packet(proto: .udp, source: LabNetwork.local, destination: LabNetwork.peer, payload: [])
        ip.payload = UDPDatagram(sourcePort: 1, destinationPort: 9, payload: [0]).bytes(in: ip)
        let toDiscard = EthernetFrame(destination: LabNetwork.peerMAC, source: frames.xtunMAC,
                                      etherType: EtherType.ipv4.rawValue, payload: ip.bytes)
        #expect(responder.answer(toDiscard.bytes).frame == nil)
    }
}
