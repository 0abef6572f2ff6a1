import Glibc
import Testing
import XtunPackets
@testable import XtunAgent

/// The frame device the checks use also opens a tap of Linux's own tun
/// driver: the same code reads what the stack transmits and writes what it
/// receives, here on this machine's kernel (which has tun built in).
@Suite("Frame device on tun's tap", .serialized,
       .enabled(if: Sys.exists("/dev/net/tun") && geteuid() == 0, "needs root and /dev/net/tun"))
struct FrameDeviceTests {
    static let name = "xtuntest\(getpid() % 10000)"

    @Test func theSameCodeReadsAndWritesFramesOnATap() throws {
        let device = try FrameDevice.mustOpen(.tap(name: Self.name))
        let interface = Interface(name: Self.name)
        #expect(interface.exists)
        let frames = Frames(xtunMAC: try #require(interface.mac))
        try NetworkSetup(interface: interface).configure()

        // Transmit: the stack resolves the peer first; the ARP request comes out of the tap.
        try UDPSender(port: 40101).send(Array("through tun".utf8))
        let (request, _) = device.frame(matching: { EthernetFrame(bytes: $0)?.etherType == EtherType.arp.rawValue },
                                        timeout: 3)
        let arp = try #require(request.flatMap { EthernetFrame(bytes: $0) }.flatMap { ARPPacket(bytes: $0.payload) })
        #expect(arp.targetIP == LabNetwork.peer && arp.senderIP == LabNetwork.local)

        // Receive: the peer's reply goes in; then the queued datagram comes out, byte for byte.
        let reply = ARPPacket(operation: .reply, senderMAC: LabNetwork.peerMAC, senderIP: LabNetwork.peer,
                              targetMAC: frames.xtunMAC, targetIP: LabNetwork.local)
        try device.mustWrite(EthernetFrame(destination: frames.xtunMAC, source: LabNetwork.peerMAC,
                                           etherType: EtherType.arp.rawValue, payload: reply.bytes).bytes, "the reply")
        let expected = frames.udpFromLocal(sourcePort: 40101, destinationPort: LabNetwork.discardPort,
                                           payload: Array("through tun".utf8))
        let (datagram, _) = device.frame(matching: { $0.count == expected.count }, timeout: 3)
        #expect(datagram == expected)
        device.close()
        #expect(Sys.wait(seconds: 2) { !interface.exists }, "a tap that is not persistent goes with its fd")
    }

    @Test func aNonblockingReadOnAnEmptyTapIsEAGAIN() throws {
        let device = try FrameDevice.mustOpen(.tap(name: Self.name), nonblocking: true)
        guard case .failure(let error) = device.read() else { Issue.record("read a frame"); return }
        #expect(error.code == EAGAIN)
    }

    @Test func aBadTapNameIsRefusedWithItsErrno() {
        guard case .failure(let error) = FrameDevice.open(.tap(name: "bad name")) else {
            Issue.record("a tap named 'bad name' opened")
            return
        }
        #expect(error.code == EINVAL)
    }
}
