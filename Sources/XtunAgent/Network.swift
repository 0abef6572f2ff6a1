import Glibc
import XtunChecks

/// Addresses the checks use: xtun is 10.99.0.1/24, the peer behind it 10.99.0.2.
enum Lab {
    static let local = IPv4Address(10, 99, 0, 1)
    static let peer = IPv4Address(10, 99, 0, 2)
    /// The peer's made-up MAC address (locally administered, unicast).
    static let peerMAC = MACAddress([0x02, 0x00, 0x00, 0x99, 0x00, 0x02])
}

/// A socket address for an IPv4 address and port.
func socketAddress(_ address: IPv4Address, port: UInt16) -> sockaddr_in {
    var socketAddress = sockaddr_in()
    socketAddress.sin_family = sa_family_t(AF_INET)
    socketAddress.sin_port = port.bigEndian
    socketAddress.sin_addr.s_addr = address.value.bigEndian
    return socketAddress
}

/// A socket file descriptor that closes itself.
final class Socket {
    let fd: Int32

    init(domain: Int32, type: Int32, proto: Int32) throws {
        fd = Glibc.socket(domain, type | Int32(SOCK_CLOEXEC.rawValue), proto)
        try require(fd >= 0, expected: "a socket", got: "socket(): \(Sys.lastError)")
    }

    deinit { close(fd) }

    static func udp() throws -> Socket {
        try Socket(domain: AF_INET, type: Int32(SOCK_DGRAM.rawValue), proto: 0)
    }

    /// A raw ICMP socket: the path ping takes.
    static func icmpRaw() throws -> Socket {
        try Socket(domain: AF_INET, type: Int32(SOCK_RAW.rawValue), proto: Int32(IPPROTO_ICMP))
    }

    func set(_ level: Int32, _ option: Int32, _ value: Int32) throws {
        var value = value
        let status = setsockopt(fd, level, option, &value, socklen_t(MemoryLayout<Int32>.size))
        try require(status == 0, expected: "setsockopt(\(option)) to succeed", got: Sys.lastError)
    }

    func bind(_ address: IPv4Address, port: UInt16) throws {
        var local = socketAddress(address, port: port)
        let status = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        try require(status == 0, expected: "bind to \(address):\(port)", got: Sys.lastError)
    }

    /// sendto(); returns nil on success or the errno.
    func send(_ bytes: [UInt8], to address: IPv4Address, port: UInt16 = 0) -> Int32? {
        var remote = socketAddress(address, port: port)
        let sent = withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return sent == bytes.count ? nil : errno
    }

    func mustSend(_ bytes: [UInt8], to address: IPv4Address, port: UInt16 = 0) throws {
        if let error = send(bytes, to: address, port: port) {
            throw Failure(expected: "sendto \(address) to succeed", got: Sys.errnoName(error))
        }
    }

    /// Waits up to `timeout` for a datagram; returns its bytes and source.
    func receive(timeout: Double) -> (bytes: [UInt8], from: IPv4Address, port: UInt16)? {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, Int32(timeout * 1000)) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65536)
        var remote = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let count = withUnsafeMutablePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                recvfrom(fd, &buffer, buffer.count, 0, $0, &length)
            }
        }
        guard count >= 0 else { return nil }
        let address = IPv4Address(bytes: withUnsafeBytes(of: remote.sin_addr.s_addr) { Array($0) }[...])
        return (Array(buffer[0..<count]), address, UInt16(bigEndian: remote.sin_port))
    }
}

/// Interface configuration the checks need, done the way a user would.
struct NetworkSetup {
    let interface: Interface

    func up() throws { try Command.must(["ip", "link", "set", interface.name, "up"]) }
    func down() throws { try Command.must(["ip", "link", "set", interface.name, "down"]) }

    /// Up, with 10.99.0.1/24.
    func configure() throws {
        if interface.isUp { try down() }
        _ = Command.run(["ip", "addr", "flush", "dev", interface.name])
        try Command.must(["ip", "addr", "add", "\(Lab.local)/24", "dev", interface.name])
        try up()
    }

    /// A permanent ARP entry for the peer, so IPv4 frames leave without ARP.
    func addPeerNeighbour() throws {
        try Command.must(["arp", "-i", interface.name, "-s", "\(Lab.peer)", "\(Lab.peerMAC)"])
    }

    func setIPv6(enabled: Bool) throws {
        try Sys.write(enabled ? "0" : "1", to: "/proc/sys/net/ipv6/conf/\(interface.name)/disable_ipv6")
    }

    func setQueueLength(_ length: Int) throws {
        try Sys.write("\(length)", to: "\(interface.directory)/tx_queue_len")
    }
}

/// Builds the frames the peer would send and the frames xtun should send.
struct Frames {
    let xtunMAC: MACAddress

    func udpFromLocal(sourcePort: UInt16, destinationPort: UInt16, payload: [UInt8]) -> [UInt8] {
        var ip = IPv4Packet(proto: .udp, source: Lab.local, destination: Lab.peer, payload: [])
        let udp = UDPDatagram(sourcePort: sourcePort, destinationPort: destinationPort, payload: payload)
        ip.payload = udp.bytes(in: ip)
        return EthernetFrame(destination: Lab.peerMAC, source: xtunMAC, etherType: EtherType.ipv4.rawValue,
                             payload: ip.bytes).bytes
    }

    func udpFromPeer(sourcePort: UInt16, destinationPort: UInt16, payload: [UInt8]) -> [UInt8] {
        var ip = IPv4Packet(proto: .udp, source: Lab.peer, destination: Lab.local, payload: [])
        let udp = UDPDatagram(sourcePort: sourcePort, destinationPort: destinationPort, payload: payload)
        ip.payload = udp.bytes(in: ip)
        return EthernetFrame(destination: xtunMAC, source: Lab.peerMAC, etherType: EtherType.ipv4.rawValue,
                             payload: ip.bytes).bytes
    }

    func arpRequestFromPeer() -> [UInt8] {
        let arp = ARPPacket(operation: .request, senderMAC: Lab.peerMAC, senderIP: Lab.peer,
                            targetMAC: .zero, targetIP: Lab.local)
        return EthernetFrame(destination: .broadcast, source: Lab.peerMAC, etherType: EtherType.arp.rawValue,
                             payload: arp.bytes).bytes
    }

    func expectedArpReply() -> [UInt8] {
        let arp = ARPPacket(operation: .reply, senderMAC: xtunMAC, senderIP: Lab.local,
                            targetMAC: Lab.peerMAC, targetIP: Lab.peer)
        return EthernetFrame(destination: Lab.peerMAC, source: xtunMAC, etherType: EtherType.arp.rawValue,
                             payload: arp.bytes).bytes
    }

    func echoRequestFromPeer(identifier: UInt16, sequence: UInt16, payload: [UInt8]) -> [UInt8] {
        let icmp = ICMPEcho(kind: .request, identifier: identifier, sequence: sequence, payload: payload)
        let ip = IPv4Packet(proto: .icmp, source: Lab.peer, destination: Lab.local, payload: icmp.bytes)
        return EthernetFrame(destination: xtunMAC, source: Lab.peerMAC, etherType: EtherType.ipv4.rawValue,
                             payload: ip.bytes).bytes
    }

    /// An ICMP echo request as ping sends it (no IP header: the kernel adds it).
    static func echoRequest(identifier: UInt16, sequence: UInt16) -> [UInt8] {
        ICMPEcho(kind: .request, identifier: identifier, sequence: sequence,
                 payload: [UInt8](repeating: 0x5a, count: 56)).bytes
    }
}

/// A byte pattern that says which datagram it is: "xtun-<index>" padded.
func payload(index: Int, length: Int) -> [UInt8] {
    var bytes = Array("xtun-\(index)-".utf8)
    var next: UInt8 = 0
    while bytes.count < length {
        bytes.append(next)
        next &+= 1
    }
    return Array(bytes.prefix(length))
}
