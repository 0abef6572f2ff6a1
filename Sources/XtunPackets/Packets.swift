/// Just enough of Ethernet, ARP, IPv4, ICMP and UDP to build the frames the
/// checks write into /dev/xtun and to take apart the frames they read.
/// Byte arrays in network order; no Foundation.

public struct MACAddress: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init(_ bytes: [UInt8]) {
        precondition(bytes.count == 6)
        self.bytes = bytes
    }

    /// Parses `02:00:5e:10:00:02`.
    public init?(_ text: String) {
        let parts = text.split(separator: ":")
        guard parts.count == 6 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard part.count == 2, let byte = UInt8(part, radix: 16) else { return nil }
            bytes.append(byte)
        }
        self.bytes = bytes
    }

    public static let broadcast = MACAddress([0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
    public static let zero = MACAddress([0, 0, 0, 0, 0, 0])

    public var isMulticast: Bool { bytes[0] & 1 == 1 }
    public var isZero: Bool { bytes.allSatisfy { $0 == 0 } }
    /// A valid station address: not a group address and not zero.
    public var isValidUnicast: Bool { !isMulticast && !isZero }

    public var description: String {
        bytes.map { hex2($0) }.joined(separator: ":")
    }
}

public struct IPv4Address: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) { bytes = [a, b, c, d] }

    public init?(_ text: String) {
        let parts = text.split(separator: ".").compactMap { UInt8($0) }
        guard parts.count == 4 else { return nil }
        bytes = parts
    }

    public init(bytes: ArraySlice<UInt8>) {
        precondition(bytes.count == 4)
        self.bytes = Array(bytes)
    }

    /// The address as a host-order integer.
    public var value: UInt32 {
        bytes.reduce(0) { $0 << 8 | UInt32($1) }
    }

    public var description: String { bytes.map(String.init).joined(separator: ".") }
}

public enum EtherType: UInt16, Sendable {
    case ipv4 = 0x0800
    case arp = 0x0806
    case ipv6 = 0x86dd
    /// IEEE 802 "local experimental" 1: no protocol handler takes it, so
    /// the stack drops such a frame after the driver counted it.
    case localExperimental = 0x88b5
}

/// RFC 1071 one's-complement sum of 16-bit words, folded and inverted.
public func internetChecksum<C: Collection>(_ bytes: C, initial: UInt32 = 0) -> UInt16
where C.Element == UInt8 {
    var sum = initial
    var index = bytes.startIndex
    while index != bytes.endIndex {
        let high = UInt32(bytes[index])
        index = bytes.index(after: index)
        var low: UInt32 = 0
        if index != bytes.endIndex {
            low = UInt32(bytes[index])
            index = bytes.index(after: index)
        }
        sum += high << 8 | low
    }
    while sum > 0xffff { sum = (sum & 0xffff) + (sum >> 16) }
    return ~UInt16(sum)
}

public struct EthernetFrame: Sendable, Equatable {
    public static let headerLength = 14

    public var destination: MACAddress
    public var source: MACAddress
    public var etherType: UInt16
    public var payload: [UInt8]

    public init(destination: MACAddress, source: MACAddress, etherType: UInt16, payload: [UInt8]) {
        self.destination = destination
        self.source = source
        self.etherType = etherType
        self.payload = payload
    }

    public init?(bytes: [UInt8]) {
        guard bytes.count >= EthernetFrame.headerLength else { return nil }
        destination = MACAddress(Array(bytes[0..<6]))
        source = MACAddress(Array(bytes[6..<12]))
        etherType = be16(bytes, 12)
        payload = Array(bytes[14...])
    }

    public var bytes: [UInt8] {
        destination.bytes + source.bytes + bytesOf16(etherType) + payload
    }
}

public struct ARPPacket: Sendable, Equatable {
    public static let length = 28
    public enum Operation: UInt16, Sendable { case request = 1, reply = 2 }

    public var hardwareType: UInt16 = 1
    public var protocolType: UInt16 = 0x0800
    public var hardwareLength: UInt8 = 6
    public var protocolLength: UInt8 = 4
    public var operation: UInt16
    public var senderMAC: MACAddress
    public var senderIP: IPv4Address
    public var targetMAC: MACAddress
    public var targetIP: IPv4Address

    public init(operation: Operation, senderMAC: MACAddress, senderIP: IPv4Address,
                targetMAC: MACAddress, targetIP: IPv4Address) {
        self.operation = operation.rawValue
        self.senderMAC = senderMAC
        self.senderIP = senderIP
        self.targetMAC = targetMAC
        self.targetIP = targetIP
    }

    public init?(bytes: [UInt8]) {
        guard bytes.count >= ARPPacket.length else { return nil }
        hardwareType = be16(bytes, 0)
        protocolType = be16(bytes, 2)
        hardwareLength = bytes[4]
        protocolLength = bytes[5]
        operation = be16(bytes, 6)
        senderMAC = MACAddress(Array(bytes[8..<14]))
        senderIP = IPv4Address(bytes: bytes[14..<18])
        targetMAC = MACAddress(Array(bytes[18..<24]))
        targetIP = IPv4Address(bytes: bytes[24..<28])
    }

    public var bytes: [UInt8] {
        bytesOf16(hardwareType) + bytesOf16(protocolType) + [hardwareLength, protocolLength]
            + bytesOf16(operation) + senderMAC.bytes + senderIP.bytes + targetMAC.bytes + targetIP.bytes
    }
}

public struct IPv4Packet: Sendable, Equatable {
    public static let headerLength = 20
    public enum Proto: UInt8, Sendable { case icmp = 1, udp = 17 }

    public var tos: UInt8 = 0
    public var identification: UInt16 = 0
    /// Flags and fragment offset; 0x4000 is DF.
    public var flagsAndOffset: UInt16 = 0x4000
    public var ttl: UInt8 = 64
    public var proto: UInt8
    public var source: IPv4Address
    public var destination: IPv4Address
    public var payload: [UInt8]
    /// As read; `bytes` always computes a fresh checksum.
    public var checksum: UInt16 = 0
    public var totalLength: UInt16 = 0
    public var versionAndIHL: UInt8 = 0x45

    public init(proto: Proto, source: IPv4Address, destination: IPv4Address, payload: [UInt8]) {
        self.proto = proto.rawValue
        self.source = source
        self.destination = destination
        self.payload = payload
        self.totalLength = UInt16(IPv4Packet.headerLength + payload.count)
    }

    /// Parses a header without options.
    public init?(bytes: [UInt8]) {
        guard bytes.count >= IPv4Packet.headerLength, bytes[0] == 0x45 else { return nil }
        versionAndIHL = bytes[0]
        tos = bytes[1]
        totalLength = be16(bytes, 2)
        identification = be16(bytes, 4)
        flagsAndOffset = be16(bytes, 6)
        ttl = bytes[8]
        proto = bytes[9]
        checksum = be16(bytes, 10)
        source = IPv4Address(bytes: bytes[12..<16])
        destination = IPv4Address(bytes: bytes[16..<20])
        let end = min(bytes.count, Int(totalLength))
        guard end >= IPv4Packet.headerLength else { return nil }
        payload = Array(bytes[20..<end])
    }

    public func header(checksum: UInt16) -> [UInt8] {
        [versionAndIHL, tos] + bytesOf16(UInt16(IPv4Packet.headerLength + payload.count))
            + bytesOf16(identification) + bytesOf16(flagsAndOffset) + [ttl, proto]
            + bytesOf16(checksum) + source.bytes + destination.bytes
    }

    public var computedChecksum: UInt16 { internetChecksum(header(checksum: 0)) }

    /// Whether the checksum as read is right.
    public var checksumIsValid: Bool { checksum == computedChecksum }

    public var bytes: [UInt8] { header(checksum: computedChecksum) + payload }

    /// Sum of the UDP/TCP pseudo-header, for `internetChecksum(initial:)`.
    public func pseudoHeaderSum(length: Int) -> UInt32 {
        let words = source.bytes + destination.bytes + [0, proto] + bytesOf16(UInt16(length))
        return stride(from: 0, to: words.count, by: 2).reduce(UInt32(0)) {
            $0 + (UInt32(words[$1]) << 8 | UInt32(words[$1 + 1]))
        }
    }
}

public struct UDPDatagram: Sendable, Equatable {
    public static let headerLength = 8

    public var sourcePort: UInt16
    public var destinationPort: UInt16
    public var payload: [UInt8]
    public var checksum: UInt16 = 0

    public init(sourcePort: UInt16, destinationPort: UInt16, payload: [UInt8]) {
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.payload = payload
    }

    public init?(bytes: [UInt8]) {
        guard bytes.count >= UDPDatagram.headerLength else { return nil }
        sourcePort = be16(bytes, 0)
        destinationPort = be16(bytes, 2)
        let length = Int(be16(bytes, 4))
        guard length >= UDPDatagram.headerLength, length <= bytes.count else { return nil }
        checksum = be16(bytes, 6)
        payload = Array(bytes[8..<length])
    }

    public var length: Int { UDPDatagram.headerLength + payload.count }

    /// The datagram with its checksum over the IPv4 pseudo-header.
    public func bytes(in ip: IPv4Packet) -> [UInt8] {
        let unsummed = bytesOf16(sourcePort) + bytesOf16(destinationPort)
            + bytesOf16(UInt16(length)) + [0, 0] + payload
        var sum = internetChecksum(unsummed, initial: ip.pseudoHeaderSum(length: length))
        if sum == 0 { sum = 0xffff }
        return Array(unsummed[0..<6]) + bytesOf16(sum) + payload
    }

    /// Whether `raw` (a whole UDP datagram as read) has a right checksum.
    public static func checksumIsValid(_ raw: [UInt8], in ip: IPv4Packet) -> Bool {
        guard raw.count >= 8 else { return false }
        if be16(raw, 6) == 0 { return true }
        return internetChecksum(raw, initial: ip.pseudoHeaderSum(length: raw.count)) == 0
    }
}

public struct ICMPEcho: Sendable, Equatable {
    public static let headerLength = 8
    public enum Kind: UInt8, Sendable { case reply = 0, request = 8 }

    public var type: UInt8
    public var code: UInt8 = 0
    public var identifier: UInt16
    public var sequence: UInt16
    public var payload: [UInt8]
    public var checksum: UInt16 = 0

    public init(kind: Kind, identifier: UInt16, sequence: UInt16, payload: [UInt8]) {
        type = kind.rawValue
        self.identifier = identifier
        self.sequence = sequence
        self.payload = payload
    }

    public init?(bytes: [UInt8]) {
        guard bytes.count >= ICMPEcho.headerLength else { return nil }
        type = bytes[0]
        code = bytes[1]
        checksum = be16(bytes, 2)
        identifier = be16(bytes, 4)
        sequence = be16(bytes, 6)
        payload = Array(bytes[8...])
    }

    public var bytes: [UInt8] {
        let unsummed = [type, code, 0, 0] + bytesOf16(identifier) + bytesOf16(sequence) + payload
        return [type, code] + bytesOf16(internetChecksum(unsummed)) + Array(unsummed[4...])
    }

    public static func checksumIsValid(_ raw: [UInt8]) -> Bool { internetChecksum(raw) == 0 }
}

/// A short hex dump for reports: `45 00 00 1c ...`.
public func hexDump(_ bytes: [UInt8], limit: Int = 64) -> String {
    let shown = bytes.prefix(limit).map { hex2($0) }.joined(separator: " ")
    return bytes.count > limit ? shown + " ... (\(bytes.count) bytes)" : shown
}

/// The first offset where two byte strings differ, or nil if equal.
public func firstDifference(_ a: [UInt8], _ b: [UInt8]) -> Int? {
    for index in 0..<min(a.count, b.count) where a[index] != b[index] { return index }
    return a.count == b.count ? nil : min(a.count, b.count)
}

func hex2(_ byte: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 0xf)]])
}

func be16(_ bytes: [UInt8], _ offset: Int) -> UInt16 {
    UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
}

func bytesOf16(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xff)] }
