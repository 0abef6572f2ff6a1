/// Says how a frame read from a device differs from the one expected, in
/// words a learner can act on.
public enum FrameComparison {
    /// Names the part of an Ethernet/IPv4/UDP frame an offset falls in.
    public static func fieldName(atOffset offset: Int) -> String {
        let ip = EthernetFrame.headerLength
        let udp = ip + IPv4Packet.headerLength
        switch offset {
        case 0..<6: return "Ethernet destination"
        case 6..<12: return "Ethernet source"
        case 12..<ip: return "EtherType"
        case ip..<udp: return "IPv4 header"
        case udp..<(udp + UDPDatagram.headerLength): return "UDP header"
        default: return "payload"
        }
    }

    /// "70 bytes, first difference at offset 12 (EtherType): ...".
    public static func describe(got: [UInt8], expected: [UInt8]) -> String {
        var text = "\(got.count) bytes"
        if let offset = firstDifference(got, expected) {
            text += ", first difference at offset \(offset) (\(fieldName(atOffset: offset)))"
        }
        if got.first == 0x45 {
            text += "; the frame starts with an IPv4 header: no Ethernet header"
        }
        return text + ": " + hexDump(got, limit: 48)
    }
}
