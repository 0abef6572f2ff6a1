import CLinux
import Glibc
import XtunChecks

/// A file descriptor that carries one Ethernet frame per `read()` and
/// `write()`: `/dev/xtun` (stages 03-05), or a tap device attached with
/// `TUNSETIFF`, of Linux's own tun driver through `/dev/net/tun` or, from
/// stage 06, of xtun through `/dev/xtun`. Checks and scenarios are written
/// against this type, so the same program runs against both.
final class FrameDevice {
    enum Kind: Equatable, CustomStringConvertible {
        /// xtun's misc device, stages 03-05: open() is all it takes.
        case xtun
        /// A tap interface created (or attached to) by name, without packet
        /// information: tun.ko's through /dev/net/tun unless `node` says otherwise.
        case tap(name: String, node: String = TunNode.tun)

        /// The tap of xtun from stage 06: the device `persistent-tap` makes.
        static let xtunTap = Kind.tap(name: DriverNames.interface, node: DriverNames.characterDevice)

        var path: String {
            switch self {
            case .xtun: DriverNames.characterDevice
            case .tap(_, let node): node
            }
        }

        /// Whether the frames go through xtun (else through tun.ko).
        var isXtun: Bool { path == DriverNames.characterDevice }

        /// The network interface the frames go through.
        var interface: String {
            switch self {
            case .xtun: DriverNames.interface
            case .tap(let name, _): name
            }
        }

        var description: String {
            switch self {
            case .xtun: DriverNames.characterDevice
            case .tap(let name, let node): "tap \(name) (\(node))"
            }
        }
    }

    let kind: Kind
    let fd: Int32
    private var closed = false

    /// Opens the device; the errno of the failing call otherwise.
    static func open(_ kind: Kind = .xtun, nonblocking: Bool = false) -> Result<FrameDevice, Errno> {
        let fd = Glibc.open(kind.path, O_RDWR | O_CLOEXEC | (nonblocking ? O_NONBLOCK : 0))
        guard fd >= 0 else { return .failure(.current) }
        let device = FrameDevice(kind: kind, fd: fd)
        if case .tap(let name, _) = kind {
            if let error = attachTap(fd: fd, name: name) { return .failure(error) }
            awaitQueueing(fd: fd, Interface(name: name))
        }
        return .success(device)
    }

    /// Opens the device or throws a check failure.
    static func mustOpen(_ kind: Kind = .xtun, nonblocking: Bool = false) throws -> FrameDevice {
        try open(kind, nonblocking: nonblocking).get(expected: "open(\(kind)) to succeed")
    }

    /// `TUNSETIFF` with `IFF_TAP | IFF_NO_PI`: every read and write is one bare Ethernet frame.
    private static func attachTap(fd: Int32, name: String) -> Errno? {
        switch TunNode.setInterface(fd: fd, name: name, flags: IFF_TAP | IFF_NO_PI) {
        case .success: nil
        case .failure(let error): error
        }
    }

    /// Attaching turns the carrier on, and until linkwatch has seen that the
    /// interface keeps the noop qdisc, which drops what the stack sends
    /// (dev_activate() waits for the carrier). For an interface that is up
    /// the carrier's rise queues linkwatch's work at once
    /// (linkwatch_urgent_event()); it sets the operstate and activates the
    /// qdisc under RTNL. Nothing a program can read says when it is done
    /// (the operstate may be stale, or never set), so this gives the queued
    /// work 100 ms to start, then takes RTNL once (TUNGETIFF, in both
    /// drivers) to let it finish.
    private static func awaitQueueing(fd: Int32, _ interface: Interface) {
        guard interface.isUp else { return }
        Sys.sleep(milliseconds: 100)
        _ = TunNode.getInterface(fd: fd)
    }

    private init(kind: Kind, fd: Int32) {
        self.kind = kind
        self.fd = fd
    }

    deinit { close() }

    func close() {
        if !closed { Glibc.close(fd) }
        closed = true
    }

    /// read() with a buffer of `capacity` bytes: the bytes, or the errno.
    func read(capacity: Int = 65536) -> Result<[UInt8], Errno> {
        var buffer = [UInt8](repeating: 0, count: max(capacity, 1))
        let count = Glibc.read(fd, &buffer, capacity)
        return count >= 0 ? .success(Array(buffer[0..<count])) : .failure(.current)
    }

    /// write(); the count written, or the errno.
    func write(_ bytes: [UInt8]) -> Result<Int, Errno> {
        let count = bytes.withUnsafeBufferPointer { Glibc.write(fd, $0.baseAddress, bytes.count) }
        return count >= 0 ? .success(count) : .failure(.current)
    }

    /// Writes one whole frame or throws a failure naming `what` and the errno.
    func mustWrite(_ frame: [UInt8], _ what: String) throws {
        let written = try write(frame).get(expected: "write() of \(what)")
        try require(written == frame.count, expected: "write() of \(what) to take all \(frame.count) bytes",
                    got: "\(written)")
    }

    /// poll() for `events`; the returned events (0 on timeout).
    func poll(_ events: Int16, timeout: Double) -> Int16 {
        var descriptor = pollfd(fd: fd, events: events, revents: 0)
        let ready = Glibc.poll(&descriptor, 1, Int32(timeout * 1000))
        return ready > 0 ? descriptor.revents : 0
    }

    /// Waits up to `timeout` for a frame and reads it without blocking.
    func nextFrame(timeout: Double, capacity: Int = 65536) -> [UInt8]? {
        guard poll(Int16(POLLIN), timeout: timeout) & Int16(POLLIN) != 0 else { return nil }
        return withoutBlocking { if case .success(let bytes) = read(capacity: capacity) { bytes } else { nil } }
    }

    /// Reads frames until one satisfies `match` or `timeout` passes; returns it and
    /// the others it read on the way.
    func frame(matching match: ([UInt8]) -> Bool, timeout: Double) -> (frame: [UInt8]?, skipped: [[UInt8]]) {
        let deadline = Sys.now() + timeout
        var skipped: [[UInt8]] = []
        while Sys.now() < deadline {
            guard let frame = nextFrame(timeout: max(deadline - Sys.now(), 0.01)) else { break }
            if match(frame) { return (frame, skipped) }
            skipped.append(frame)
        }
        return (nil, skipped)
    }

    /// Reads without blocking until the queue is empty; returns the frames.
    func drain() -> [[UInt8]] {
        withoutBlocking {
            var frames: [[UInt8]] = []
            while case .success(let frame) = read() { frames.append(frame) }
            return frames
        }
    }

    /// Runs `body` with O_NONBLOCK set, so a read never waits even if poll was wrong.
    private func withoutBlocking<T>(_ body: () -> T) -> T {
        let flags = fcntl(fd, F_GETFL)
        if flags & O_NONBLOCK != 0 { return body() }
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        defer { _ = fcntl(fd, F_SETFL, flags) }
        return body()
    }
}
