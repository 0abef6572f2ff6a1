import CLinux
import Glibc
import XtunChecks
import XtunPackets

/// The data path of a VPN without its crypto: two TUN devices, each in a
/// network namespace of its own, and a thread per direction that copies
/// every packet one file reads to the other file's write. What 10.77.0.1
/// in one namespace sends to 10.77.0.2 in the other crosses userspace.
final class Forwarder {
    static let addresses = [IPv4Address(10, 77, 0, 1), IPv4Address(10, 77, 0, 2)]
    static let names = ["fwa", "fwb"]

    let node: String
    let namespaces: [NetworkNamespace]
    private let files: [Int32]
    /// A pipe: a byte written to it stops both threads.
    private let stopper: (read: Int32, write: Int32)
    private var copiers: [Worker<Int>] = []

    /// Makes the two namespaces and devices on `node` (/dev/xtun or /dev/net/tun).
    init(node: String) throws {
        self.node = node
        namespaces = try ["fw-a", "fw-b"].map { try NetworkNamespace.make($0) }
        var files: [Int32] = []
        do {
            for (side, namespace) in namespaces.enumerated() {
                files.append(try Forwarder.attach(node: node, name: Forwarder.names[side], in: namespace))
                try namespace.run {
                    _ = try Command.must(["ip", "addr", "add", "\(Forwarder.addresses[side])/24", "dev", Forwarder.names[side]])
                    _ = try Command.must(["ip", "link", "set", Forwarder.names[side], "up"])
                }
            }
        } catch {
            for fd in files { close(fd) }
            throw error
        }
        self.files = files
        var pipeEnds: [Int32] = [-1, -1]
        guard pipe(&pipeEnds) == 0 else {
            for fd in files { close(fd) }
            throw Failure(expected: "a pipe", got: "\(Errno.current)")
        }
        for end in pipeEnds { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        stopper = (pipeEnds[0], pipeEnds[1])
        copiers = [(0, 1), (1, 0)].map { from, to in
            let (source, sink, stop) = (files[from], files[to], stopper.read)
            return Worker { Forwarder.copy(from: source, to: sink, stop: stop) }
        }
    }

    deinit {
        _ = stop()
        for fd in files { close(fd) }
        close(stopper.read)
        close(stopper.write)
    }

    /// A TUN device without packet information, made in `namespace`.
    private static func attach(node: String, name: String, in namespace: NetworkNamespace) throws -> Int32 {
        try namespace.run { () throws -> Int32 in
            let fd = open(node, O_RDWR | O_CLOEXEC)
            guard fd >= 0 else { throw Failure(expected: "open(\(node))", got: "\(Errno.current)") }
            switch TunNode.setInterface(fd: fd, name: name, flags: IFF_TUN | IFF_NO_PI) {
            case .success: return fd
            case .failure(let error):
                close(fd)
                throw Failure(expected: "TUNSETIFF(IFF_TUN | IFF_NO_PI, \"\(name)\") on \(node)", got: "\(error)")
            }
        }
    }

    /// Copies until the stop pipe is readable; returns the packets copied.
    private static func copy(from source: Int32, to sink: Int32, stop: Int32) -> Int {
        var buffer = [UInt8](repeating: 0, count: 65536)
        var copied = 0
        var descriptors = [pollfd(fd: source, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: stop, events: Int16(POLLIN), revents: 0)]
        while true {
            if poll(&descriptors, 2, -1) < 0 {
                if errno == EINTR { continue }
                break
            }
            if descriptors[1].revents != 0 { break }
            // A device deleted under its file: nothing more will come.
            if descriptors[0].revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0 { break }
            let n = read(source, &buffer, buffer.count)
            if n < 0, errno != EAGAIN, errno != EINTR { break }
            if n > 0, write(sink, buffer, n) == n { copied += 1 }
        }
        return copied
    }

    /// Stops both threads; the packets each direction copied (A→B, B→A).
    func stop() -> [Int] {
        guard !copiers.isEmpty else { return [] }
        var byte: UInt8 = 1
        _ = write(stopper.write, &byte, 1)
        let counts = copiers.map { $0.join(timeout: 5) ?? -1 }
        copiers = []
        return counts
    }

    /// `size` bytes over TCP from A to B through the forwarder; the seconds it took.
    func transfer(size: Int, seed: UInt64, port: UInt16 = 5001, scale: Double = 1) throws -> Double {
        var random = SeededRandom(seed: seed)
        let data = (0..<size).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        let transfer = TCPTransfer(from: namespaces[0], to: namespaces[1], address: Forwarder.addresses[1], port: port,
                                   scale: scale)
        let seconds = try transfer.send(data)
        let live = try namespaces.map { try $0.liveTCPSockets() }
        try require(live == [0, 0], expected: "no TCP socket left open in either namespace",
                    got: "\(live[0]) in \(namespaces[0].name), \(live[1]) in \(namespaces[1].name)")
        return seconds
    }
}
