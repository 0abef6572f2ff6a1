import CLinux
import Glibc
import XtunPackets

/// Bytes sent over one TCP connection from a socket made in one network
/// namespace to a listener in another, compared byte for byte. Both ends
/// close with nothing left: the receiver answers the sender's FIN with a
/// reset, so no socket lingers (retransmitting, holding its namespace and
/// routes) once the path between them goes away.
struct TCPTransfer {
    let from: NetworkNamespace
    let to: NetworkNamespace
    let address: IPv4Address
    let port: UInt16
    /// How many times longer every wait is.
    var scale = 1.0

    /// Sends `data`; returns the seconds from connect() to the receiver's last byte.
    func send(_ data: [UInt8]) throws -> Double {
        let (address, port) = (self.address, self.port)
        let listener = try to.run { () throws -> Socket in
            let socket = try Socket.tcp()
            try socket.set(SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR")
            try socket.bind(address, port: port)
            try require(listen(socket.fd, 1) == 0, expected: "listen() on \(address):\(port)", got: "\(Errno.current)")
            return socket
        }
        let client = try from.run { try Socket.tcp() }
        let timeout = 30 * scale
        try client.setSendTimeout(seconds: timeout)
        try client.setReceiveTimeout(seconds: timeout)
        let receiving = Worker { TCPTransfer.receive(on: listener, expecting: data.count, timeout: timeout) }
        let started = Sys.now()
        try client.connect(address, port: port)
        let sent = client.sendAll(data)
        shutdown(client.fd, Int32(SHUT_WR))
        // The receiver's reset (or its FIN) ends the connection here too.
        var byte: UInt8 = 0
        _ = recv(client.fd, &byte, 1, 0)
        guard let (received, finished) = receiving.join(timeout: timeout + 5) else {
            throw Failure(expected: "the receiver to finish within \(Int(timeout)) s", got: "still reading")
        }
        try require(sent == data.count, expected: "send() to take all \(data.count) bytes", got: "\(sent)")
        try require(received == data, expected: "\(data.count) bytes received byte-exact",
                    got: "\(received.count) bytes" + (firstDifference(received, data).map { ", first difference at \($0)" } ?? ""))
        return finished - started
    }

    /// Accepts one connection, reads until the sender's FIN, then resets it.
    private static func receive(on listener: Socket, expecting count: Int, timeout: Double) -> ([UInt8], Double) {
        var descriptor = pollfd(fd: listener.fd, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, Int32(timeout * 1000)) == 1 else { return ([], Sys.now()) }
        let fd = accept(listener.fd, nil, nil)
        guard fd >= 0 else { return ([], Sys.now()) }
        defer { close(fd) }
        var wait = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        var received: [UInt8] = []
        received.reserveCapacity(count)
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            received += buffer[..<n]
        }
        let finished = Sys.now()
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        return (received, finished)
    }
}

extension Socket {
    static func tcp() throws -> Socket {
        try Socket(domain: AF_INET, type: Int32(SOCK_STREAM.rawValue), proto: 0)
    }

    func connect(_ address: IPv4Address, port: UInt16) throws {
        var remote = socketAddress(address, port: port)
        let status = withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        let error = Errno.current
        try require(status == 0, expected: "connect() to \(address):\(port)", got: "\(error)")
    }

    /// Writes all of `bytes` unless an error stops it; returns how many went.
    func sendAll(_ bytes: [UInt8]) -> Int {
        var offset = 0
        bytes.withUnsafeBytes { buffer in
            while offset < buffer.count {
                let n = Glibc.send(fd, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
                if n <= 0 { break }
                offset += n
            }
        }
        return offset
    }
}
