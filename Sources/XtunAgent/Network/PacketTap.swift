import CLinux
import Glibc

/// A packet socket on one interface: sees every frame the stack receives
/// there, so it tells whether a write() to the device was injected.
final class PacketTap {
    let socket: Socket

    init(interface: Interface) throws {
        let everything = UInt16(ETH_P_ALL).bigEndian
        socket = try Socket(domain: AF_PACKET, type: Int32(SOCK_RAW.rawValue), proto: Int32(everything))
        var address = sockaddr_ll()
        address.sll_family = UInt16(AF_PACKET)
        address.sll_protocol = everything
        address.sll_ifindex = interface.index ?? 0
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socket.fd, $0, socklen_t(MemoryLayout<sockaddr_ll>.size))
            }
        }
        let error = Errno.current
        try require(status == 0, expected: "a packet socket bound to \(interface.name)", got: "\(error)")
    }

    /// The frames received (not sent) on the interface since the last call,
    /// with the packet type the stack gave each (`PACKET_HOST`, `PACKET_BROADCAST`, ...).
    func received() -> [(bytes: [UInt8], type: UInt8)] {
        var frames: [(bytes: [UInt8], type: UInt8)] = []
        var buffer = [UInt8](repeating: 0, count: 70000)
        while true {
            var address = sockaddr_ll()
            var size = socklen_t(MemoryLayout<sockaddr_ll>.size)
            let count = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    recvfrom(socket.fd, &buffer, buffer.count, Int32(MSG_DONTWAIT), $0, &size)
                }
            }
            if count < 0 { break }
            if address.sll_pkttype != UInt8(PACKET_OUTGOING) {
                frames.append((Array(buffer[0..<count]), address.sll_pkttype))
            }
        }
        return frames
    }

    /// Lengths of the frames received since the last call.
    func receivedLengths() -> [Int] { received().map(\.bytes.count) }
}
