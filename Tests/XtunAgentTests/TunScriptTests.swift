import CLinux
import Testing
import XtunPackets
@testable import XtunAgent

/// The conformance table's words and its rules, on the host.
@Suite("Conformance steps")
struct TunScriptTests {
    @Test(arguments: ["tap,no_pi", "tun", "tap,persist,no_pi", "tun,one_queue,excl", "none"])
    func flagWordsRoundTrip(_ words: String) {
        #expect(TunFlags.describe(TunFlags.parse(words)) == words)
    }

    @Test func unknownBitsStayVisible() {
        #expect(TunFlags.describe(IFF_TAP | 0x0008) == "tap,0x8")
    }

    @Test func aFrameWithPacketInformationIsDescribedFieldByField() {
        let ip = IPv4Packet(proto: .udp, source: LabNetwork.local, destination: LabNetwork.peer, payload: [])
        var packet = ip
        let udp = UDPDatagram(sourcePort: 5000, destinationPort: 9, payload: TunScript.udpPayload)
        packet.payload = udp.bytes(in: ip)
        // struct tun_pi: flags in host order (TUN_PKT_STRIP), proto big-endian.
        let read = [0x01, 0x00, 0x08, 0x00] + packet.bytes
        #expect(TunScript.describeFrame(read, flags: IFF_TUN)
            == "pi flags 0x0001 proto 0x0800, IPv4 UDP 10.99.0.1 > 10.99.0.2 port 9, payload intact")
        #expect(TunScript.describeFrame(packet.bytes, flags: IFF_TUN | IFF_NO_PI)
            == "IPv4 UDP 10.99.0.1 > 10.99.0.2 port 9, payload intact")
    }

    @Test func everyScenarioHasTunsLinesAndEveryDifferenceItsReason() {
        for scenario in Conformance.table {
            #expect(!scenario.tun.isEmpty, "\(scenario.name) has no lines")
            #expect(scenario.tun.count == scenario.steps.reduce(0) { $0 + stepLines($1) },
                    "\(scenario.name): one line per step")
            if scenario.xtun != nil || scenario.tun61 != nil {
                #expect(!(scenario.why ?? "").isEmpty, "\(scenario.name) differs without saying why")
            }
        }
        #expect(Set(Conformance.table.map(\.name)).count == Conformance.table.count)
    }

    @Test func scenarioInterfacesAreTheOnesCleanedUp() {
        #expect(Conformance.isScenarioInterface("ct0"))
        #expect(Conformance.isScenarioInterface("xtap12"))
        #expect(!Conformance.isScenarioInterface("xtun"))
        #expect(!Conformance.isScenarioInterface("lo"))
        #expect(!Conformance.isScenarioInterface("tunl0x"))
    }

    /// `as U a; b; c` prints one line per inner step.
    private func stepLines(_ step: String) -> Int {
        step.hasPrefix("as ") ? step.split(separator: ";").count : 1
    }
}
