import Testing
@testable import XtunPackets

@Suite("Packet codecs")
struct PacketTests {
    @Test func checksumMatchesRFC1071Example() {
        // RFC 1071 section 3: the sum of these words is 0xddf2; the checksum is its complement.
        #expect(internetChecksum([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]) == ~UInt16(0xddf2))
    }

    @Test func ipv4HeaderChecksumOfAKnownHeader() {
        // A header from Wikipedia's "IPv4 header checksum" example: checksum 0xb861.
        var ip = IPv4Packet(proto: .udp, source: IPv4Address(192, 168, 0, 1),
                            destination: IPv4Address(192, 168, 0, 199), payload: [UInt8](repeating: 0, count: 95))
        ip.identification = 0
        ip.flagsAndOffset = 0x4000
        ip.ttl = 64
        ip.proto = 17
        #expect(ip.computedChecksum == 0xb861)
        let parsed = IPv4Packet(bytes: ip.bytes)
        #expect(parsed?.checksumIsValid == true)
        #expect(parsed?.payload.count == 95)
    }

    @Test func udpChecksumVerifies() {
        let ip = IPv4Packet(proto: .udp, source: IPv4Address(10, 99, 0, 1), destination: IPv4Address(10, 99, 0, 2),
                            payload: [])
        let bytes = UDPDatagram(sourcePort: 40001, destinationPort: 9, payload: Array("hello".utf8)).bytes(in: ip)
        #expect(UDPDatagram.checksumIsValid(bytes, in: ip))
        var corrupted = bytes
        corrupted[9] ^= 0xff
        #expect(!UDPDatagram.checksumIsValid(corrupted, in: ip))
        #expect(UDPDatagram(bytes: bytes)?.payload == Array("hello".utf8))
    }

    @Test func arpRoundTrips() {
        let arp = ARPPacket(operation: .request, senderMAC: MACAddress([2, 0, 0, 0x99, 0, 2]),
                            senderIP: IPv4Address(10, 99, 0, 2), targetMAC: .zero, targetIP: IPv4Address(10, 99, 0, 1))
        #expect(arp.bytes.count == ARPPacket.length)
        #expect(ARPPacket(bytes: arp.bytes) == arp)
        let frame = EthernetFrame(destination: .broadcast, source: arp.senderMAC, etherType: 0x0806, payload: arp.bytes)
        #expect(frame.bytes.count == 42)
        #expect(EthernetFrame(bytes: frame.bytes) == frame)
    }

    @Test func icmpEchoChecksumVerifies() {
        let echo = ICMPEcho(kind: .request, identifier: 0x7874, sequence: 1, payload: [1, 2, 3])
        #expect(ICMPEcho.checksumIsValid(echo.bytes))
        #expect(ICMPEcho(bytes: echo.bytes)?.sequence == 1)
    }

    @Test(arguments: [("02:00:00:99:00:02", true), ("ff:ff:ff:ff:ff:ff", false), ("00:00:00:00:00:00", false),
                      ("01:00:5e:00:00:01", false), ("6e:c6:83:5d:1c:0d", true)])
    func macValidity(_ text: String, _ valid: Bool) {
        #expect(MACAddress(text)?.isValidUnicast == valid)
        #expect(MACAddress(text)?.description == text)
    }

    @Test func rejectsMalformedAddresses() {
        #expect(MACAddress("02:00:00:99:00") == nil)
        #expect(MACAddress("zz:00:00:99:00:02") == nil)
        #expect(IPv4Address("10.99.0") == nil)
    }

    @Test func firstDifferenceFindsOffsets() {
        #expect(firstDifference([1, 2, 3], [1, 2, 3]) == nil)
        #expect(firstDifference([1, 2, 3], [1, 9, 3]) == 1)
        #expect(firstDifference([1, 2], [1, 2, 3]) == 2)
    }
}
