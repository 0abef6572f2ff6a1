import Testing
@testable import XtunPackets

@Suite("Lab frames")
struct FrameTests {
    let frames = Frames(xtunMAC: MACAddress([0x02, 0xaa, 0, 0, 0, 1]))

    @Test func sizesComeFromTheHeaders() {
        #expect(FrameSize.arp == 42)
        #expect(FrameSize.udpOverhead == 42)
        #expect(FrameSize.ping == 98)
        #expect(frames.arpRequestFromPeer().count == FrameSize.arp)
        #expect(frames.udpFromLocal(sourcePort: 1, destinationPort: 9, payload: [1, 2, 3]).count
            == FrameSize.udpOverhead + 3)
    }

    @Test func theArpReplyAnswersTheRequest() throws {
        let request = try #require(EthernetFrame(bytes: frames.arpRequestFromPeer()))
        let reply = try #require(EthernetFrame(bytes: frames.expectedArpReply()))
        let asked = try #require(ARPPacket(bytes: request.payload))
        let answered = try #require(ARPPacket(bytes: reply.payload))
        #expect(request.destination == .broadcast && reply.destination == LabNetwork.peerMAC)
        #expect(answered.senderIP == asked.targetIP && answered.targetMAC == asked.senderMAC)
        #expect(answered.senderMAC == frames.xtunMAC)
    }

    @Test func udpFramesHaveValidChecksums() throws {
        let frame = try #require(EthernetFrame(bytes: frames.udpFromPeer(sourcePort: 6666, destinationPort: 5555,
                                                                         payload: Array("hello".utf8))))
        let ip = try #require(IPv4Packet(bytes: frame.payload))
        #expect(ip.checksumIsValid && ip.source == LabNetwork.peer && ip.destination == LabNetwork.local)
        #expect(UDPDatagram.checksumIsValid(ip.payload, in: ip))
        #expect(frame.destination == frames.xtunMAC)
    }

    @Test func unhandledFramesUseTheExperimentalEtherType() {
        let frame = Frames.unhandled(to: frames.xtunMAC, length: 60)
        #expect(frame.count == 60)
        #expect(EthernetFrame(bytes: frame)?.etherType == EtherType.localExperimental.rawValue)
        #expect(Frames.unhandled(to: frames.xtunMAC, length: 14).count == 14)
    }

    @Test(arguments: [0, 7, 31, 12345])
    func numberedPayloadsNameTheirIndex(_ index: Int) {
        #expect(NumberedPayload.index(of: NumberedPayload.make(index: index, length: 32)) == index)
        #expect(NumberedPayload.make(index: index, length: 32).count == 32)
    }

    @Test func aPayloadThatIsNotNumberedHasNoIndex() {
        #expect(NumberedPayload.index(of: Array("hello".utf8)) == nil)
    }

    @Test func seededRandomnessRepeats() {
        var one = SeededRandom(seed: 42), two = SeededRandom(seed: 42), other = SeededRandom(seed: 43)
        let bytes = one.bytes(16)
        #expect(bytes == two.bytes(16))
        #expect(bytes != other.bytes(16))
        // SplitMix64's first output for seed 0 (Vigna's reference implementation).
        var zero = SeededRandom(seed: 0)
        #expect(zero.next() == 0xe220_a839_7b1d_cdaf)
    }

    @Test func mismatchesNameTheField() {
        let expected = frames.udpFromLocal(sourcePort: 40001, destinationPort: 9, payload: [1, 2, 3])
        var got = expected
        got[12] ^= 0xff
        #expect(FrameComparison.describe(got: got, expected: expected).contains("offset 12 (EtherType)"))
        let headerless = Array(expected.dropFirst(14))
        #expect(FrameComparison.describe(got: headerless, expected: expected).contains("no Ethernet header"))
    }
}
