import CLinux
import Glibc
import XtunPackets

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
        let error = Errno.current
        try require(fd >= 0, expected: "a socket", got: "socket(): \(error)")
    }

    deinit { close(fd) }

    static func udp() throws -> Socket {
        try Socket(domain: AF_INET, type: Int32(SOCK_DGRAM.rawValue), proto: 0)
    }

    /// A raw ICMP socket: the path ping takes.
    static func icmpRaw() throws -> Socket {
        try Socket(domain: AF_INET, type: Int32(SOCK_RAW.rawValue), proto: Int32(IPPROTO_ICMP))
    }

    func set(_ level: Int32, _ option: Int32, _ value: Int32, _ name: String) throws {
        var value = value
        let status = setsockopt(fd, level, option, &value, socklen_t(MemoryLayout<Int32>.size))
        let error = Errno.current
        try require(status == 0, expected: "setsockopt(\(name)) to succeed", got: "\(error)")
    }

    /// SO_SNDTIMEO: a send that waits for buffer space fails with EAGAIN after `seconds`.
    func setSendTimeout(seconds: Double) throws {
        try setTimeout(SO_SNDTIMEO, "SO_SNDTIMEO", seconds: seconds)
    }

    /// SO_RCVTIMEO: a receive that waits fails with EAGAIN after `seconds`.
    func setReceiveTimeout(seconds: Double) throws {
        try setTimeout(SO_RCVTIMEO, "SO_RCVTIMEO", seconds: seconds)
    }

    private func setTimeout(_ option: Int32, _ name: String, seconds: Double) throws {
        var value = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - seconds.rounded(.down)) * 1e6))
        let status = setsockopt(fd, SOL_SOCKET, option, &value, socklen_t(MemoryLayout<timeval>.size))
        let error = Errno.current
        try require(status == 0, expected: "setsockopt(\(name)) to succeed", got: "\(error)")
    }

    /// SO_BINDTODEVICE: what it sends leaves through `interface`.
    func bindToDevice(_ interface: String) throws {
        let status = interface.withCString {
            setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, $0, socklen_t(strlen($0) + 1))
        }
        let error = Errno.current
        try require(status == 0, expected: "setsockopt(SO_BINDTODEVICE, \(interface)) to succeed", got: "\(error)")
    }

    func bind(_ address: IPv4Address, port: UInt16) throws {
        var local = socketAddress(address, port: port)
        let status = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        let error = Errno.current
        try require(status == 0, expected: "bind to \(address):\(port)", got: "\(error)")
    }

    /// sendto(); nil on success, else the errno.
    func send(_ bytes: [UInt8], to address: IPv4Address, port: UInt16 = 0, flags: Int32 = 0) -> Errno? {
        var remote = socketAddress(address, port: port)
        let sent = withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, bytes, bytes.count, flags, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        let error = Errno.current
        return sent == bytes.count ? nil : error
    }

    func mustSend(_ bytes: [UInt8], to address: IPv4Address, port: UInt16 = 0, flags: Int32 = 0) throws {
        if let error = send(bytes, to: address, port: port, flags: flags) {
            throw Failure(expected: "sendto \(address) to succeed", got: "\(error)")
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
                recvfrom(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT), $0, &length)
            }
        }
        guard count >= 0 else { return nil }
        let address = IPv4Address(bytes: withUnsafeBytes(of: remote.sin_addr.s_addr) { Array($0) }[...])
        return (Array(buffer[0..<count]), address, UInt16(bigEndian: remote.sin_port))
    }
}

/// Sends UDP datagrams from 10.99.0.1 with DF set, so the IPv4 header is
/// fully predictable (an unconnected socket's DF datagrams get IP ID 0).
struct UDPSender {
    let socket: Socket
    let port: UInt16

    init(port: UInt16) throws {
        socket = try Socket.udp()
        try socket.set(SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR")
        try socket.set(Int32(IPPROTO_IP), IP_MTU_DISCOVER, IP_PMTUDISC_DO, "IP_MTU_DISCOVER")
        try socket.bind(LabNetwork.local, port: port)
        self.port = port
    }

    func send(_ payload: [UInt8], port destination: UInt16 = LabNetwork.discardPort, flags: Int32 = 0) throws {
        try socket.mustSend(payload, to: LabNetwork.peer, port: destination, flags: flags)
    }

    /// Sends `count` datagrams whose payload names their index.
    func sendNumbered(_ count: Int, length: Int = 32) throws {
        for index in 0..<count { try send(NumberedPayload.make(index: index, length: length)) }
    }
}
