import Glibc
import CLinux
import XtunChecks

/// Sends UDP datagrams from 10.99.0.1 with DF set, so the IPv4 header is
/// fully predictable (an unconnected socket's DF datagrams get IP ID 0).
struct UDPSender {
    let socket: Socket
    let port: UInt16

    init(port: UInt16) throws {
        socket = try Socket.udp()
        try socket.set(SOL_SOCKET, SO_REUSEADDR, 1)
        try socket.set(Int32(IPPROTO_IP), 10 /* IP_MTU_DISCOVER */, 2 /* IP_PMTUDISC_DO */)
        try socket.bind(Lab.local, port: port)
        self.port = port
    }

    func send(_ payload: [UInt8], port destination: UInt16 = 9) throws {
        try socket.mustSend(payload, to: Lab.peer, port: destination)
    }

    /// Sends `count` datagrams whose payload names their index.
    func sendNumbered(_ count: Int, length: Int = 32) throws {
        for index in 0..<count { try send(payload(index: index, length: length)) }
    }
}

/// Names the part of an Ethernet/IPv4/UDP frame an offset falls in.
func fieldName(atOffset offset: Int) -> String {
    switch offset {
    case 0..<6: return "Ethernet destination"
    case 6..<12: return "Ethernet source"
    case 12..<14: return "EtherType"
    case 14..<34: return "IPv4 header"
    case 34..<42: return "UDP header"
    default: return "payload"
    }
}

/// "70 bytes, first difference at offset 12 (EtherType): ..."
func describeMismatch(got: [UInt8], expected: [UInt8]) -> String {
    var text = "\(got.count) bytes"
    if let offset = firstDifference(got, expected) {
        text += ", first difference at offset \(offset) (\(fieldName(atOffset: offset)))"
    }
    if got.first == 0x45 {
        text += "; the frame starts with an IPv4 header: no Ethernet header"
    }
    return text + ": " + hexDump(got, limit: 48)
}

/// Stage 03: /dev/xtun hands the reader what the stack transmits.
enum ReaderChecks {
    static let all: [String: GuestCheck] = [
        Expectation.charDevice.id: GuestCheck { session in
            var info = stat()
            try require(stat(XtunFile.path, &info) == 0, expected: "\(XtunFile.path) to exist",
                        got: Sys.lastError)
            let isCharacter = info.st_mode & S_IFMT == S_IFCHR
            let major = (info.st_rdev >> 8) & 0xfff
            let minor = (info.st_rdev & 0xff) | ((info.st_rdev >> 12) & 0xfff00)
            try require(isCharacter && major == 10,
                        expected: "a character device with major 10 (misc)",
                        got: "mode \(String(info.st_mode, radix: 8)), major \(major)")
            return "char 10:\(minor)"
        },
        Expectation.readUdpExact.id: GuestCheck { session in
            try session.configureWithPeer()
            let file = try XtunFile.mustOpen()
            let data = Array("xtun lab: one datagram, read back byte for byte".utf8)
            try UDPSender(port: 40001).send(data)
            let expected = try session.frames().udpFromLocal(sourcePort: 40001, destinationPort: 9, payload: data)
            guard let frame = file.nextFrame(timeout: 2) else {
                throw Failure(expected: "a frame within 2 s", got: "nothing to read")
            }
            try require(frame == expected,
                        expected: "\(expected.count) bytes: \(hexDump(expected, limit: 48))",
                        got: describeMismatch(got: frame, expected: expected))
            return "\(frame.count) bytes: Ethernet, IPv4 (checksum ok), UDP (checksum ok), payload"
        },
        Expectation.readFrameBoundaries.id: GuestCheck { session in
            try session.configureWithPeer()
            let file = try XtunFile.mustOpen()
            let sender = try UDPSender(port: 40002)
            let sizes = [1, 100, 1000]
            for size in sizes { try sender.send(payload(index: size, length: size)) }
            var lengths: [Int] = []
            for _ in sizes {
                guard let frame = file.nextFrame(timeout: 2) else { break }
                lengths.append(frame.count)
            }
            let extra = file.drain().count
            let expected = sizes.map { $0 + 42 }
            try require(lengths == expected && extra == 0,
                        expected: "reads of \(expected) bytes, then nothing",
                        got: "reads of \(lengths) bytes, then \(extra) more frames")
            return "reads returned \(lengths) bytes"
        },
        Expectation.nonblockEagain.id: GuestCheck { session in
            try session.configureWithPeer()
            let file = try XtunFile.mustOpen(nonblocking: true)
            let started = Sys.now()
            let result = file.read()
            let elapsed = Sys.now() - started
            guard case .failure(let error) = result else {
                throw Failure(expected: "EAGAIN", got: "a frame")
            }
            try require(error.code == EAGAIN, expected: "EAGAIN", got: Sys.errnoName(error.code))
            try require(elapsed < 0.5, expected: "an immediate return", got: "\(elapsed) s")
            return "EAGAIN at once"
        },
        Expectation.blockedReaderWakes.id: GuestCheck { session in
            try session.configureWithPeer()
            let file = try XtunFile.mustOpen()
            let reader = Worker { () -> (Int, Double) in
                switch file.read() {
                case .success(let frame): return (frame.count, Sys.now())
                case .failure(let error): return (-Int(error.code), Sys.now())
                }
            }
            Sys.sleep(milliseconds: 500)
            let sentAt = Sys.now()
            try UDPSender(port: 40003).send(payload(index: 1, length: 10))
            let (length, wokeAt) = reader.join()
            try require(length == 52, expected: "the blocked read to return the 52-byte frame",
                        got: length < 0 ? Sys.errnoName(Int32(-length)) : "\(length) bytes")
            try require(wokeAt >= sentAt && wokeAt - sentAt < 2,
                        expected: "the read to return after the send, within 2 s",
                        got: "returned \(wokeAt - sentAt) s after the send")
            return "woke \(Int((wokeAt - sentAt) * 1000)) ms after the send"
        },
        Expectation.pollReadiness.id: GuestCheck { session in
            try session.configureWithPeer()
            let file = try XtunFile.mustOpen()
            let inMask = Int16(POLLIN)
            try require(file.poll(inMask, timeout: 0) & inMask == 0,
                        expected: "no POLLIN on an empty queue", got: "POLLIN")
            let epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
            defer { close(epoll) }
            var event = epoll_event()
            event.events = EPOLLIN.rawValue
            event.data.fd = file.fd
            try require(epoll_ctl(epoll, EPOLL_CTL_ADD, file.fd, &event) == 0,
                        expected: "epoll_ctl to succeed", got: Sys.lastError)
            var events = [epoll_event](repeating: epoll_event(), count: 4)
            try require(epoll_wait(epoll, &events, 4, 0) == 0,
                        expected: "no epoll event on an empty queue", got: "an event")
            try UDPSender(port: 40004).send(payload(index: 2, length: 10))
            try require(file.poll(inMask, timeout: 2) & inMask != 0,
                        expected: "POLLIN after a frame is sent", got: "no POLLIN in 2 s")
            try require(epoll_wait(epoll, &events, 4, 0) == 1 && events[0].events & EPOLLIN.rawValue != 0,
                        expected: "EPOLLIN from epoll_wait", got: "no event")
            _ = file.read()
            try require(file.poll(inMask, timeout: 0) & inMask == 0,
                        expected: "no POLLIN once the frame is read", got: "POLLIN")
            return "POLLIN/EPOLLIN off, on after the send, off after the read"
        },
        Expectation.shortReadTruncates.id: GuestCheck { session in
            try session.configureWithPeer()
            let file = try XtunFile.mustOpen()
            let data = payload(index: 3, length: 100)
            try UDPSender(port: 40005).send(data)
            let expected = try session.frames().udpFromLocal(sourcePort: 40005, destinationPort: 9, payload: data)
            guard file.poll(Int16(POLLIN), timeout: 2) != 0 else {
                throw Failure(expected: "a frame within 2 s", got: "nothing to read")
            }
            let before = session.interface.counters
            guard case .success(let head) = file.read(capacity: 20) else {
                throw Failure(expected: "a 20-byte read to succeed", got: Sys.lastError)
            }
            try require(head == Array(expected.prefix(20)),
                        expected: "the frame's first 20 bytes", got: hexDump(head))
            let rest = file.drain()
            try require(rest.isEmpty, expected: "the rest of the frame dropped",
                        got: "\(rest.count) more reads, \(rest.map(\.count)) bytes")
            let delta = session.interface.counters.delta(since: before)
            try require(delta["tx_packets"] == 1 && delta["tx_bytes"] == expected.count,
                        expected: "tx_packets +1, tx_bytes +\(expected.count) (the whole frame)",
                        got: Counters.describe(delta))
            return "read(20) returned 20 bytes of a \(expected.count)-byte frame; then EAGAIN"
        },
        Expectation.secondOpenBusy.id: GuestCheck { session in
            let first = try XtunFile.mustOpen()
            switch XtunFile.open() {
            case .success: throw Failure(expected: "EBUSY", got: "a second open succeeded")
            case .failure(let error):
                try require(error.code == EBUSY, expected: "EBUSY", got: Sys.errnoName(error.code))
            }
            first.close()
            let third = try XtunFile.mustOpen()
            third.close()
            return "second open: EBUSY; open after close: ok"
        },
        Expectation.closedDrops.id: GuestCheck { session in
            try session.configureWithPeer()
            let before = session.interface.counters
            try UDPSender(port: 40006).sendNumbered(5)
            let delta = session.interface.counters.delta(since: before)
            try require(delta["tx_dropped"] == 5 && delta["tx_packets"] == nil,
                        expected: "tx_dropped +5, tx_packets +0", got: Counters.describe(delta))
            return "tx_dropped +5"
        },
        Expectation.overflowBounded.id: GuestCheck { session in
            try session.configureWithPeer()
            try session.network.setQueueLength(32)
            let file = try XtunFile.mustOpen()
            let before = session.interface.counters
            try UDPSender(port: 40007).sendNumbered(100)
            let queuedDelta = session.interface.counters.delta(since: before)
            try require(queuedDelta["tx_dropped"] == 68,
                        expected: "tx_dropped +68 (100 sent, 32 queued)",
                        got: Counters.describe(queuedDelta))
            let frames = file.drain()
            let order = frames.compactMap { frame -> Int? in
                let text = String(decoding: frame.dropFirst(42).prefix(12), as: UTF8.self)
                return text.split(separator: "-").dropFirst().first.flatMap { Int($0) }
            }
            try require(frames.count == 32, expected: "exactly 32 frames to read",
                        got: "\(frames.count) frames")
            try require(order == Array(0..<32), expected: "datagrams 0...31 in order (FIFO)",
                        got: "\(order)")
            let delta = session.interface.counters.delta(since: before)
            try require(delta["tx_packets"] == 32, expected: "tx_packets +32",
                        got: Counters.describe(delta))
            return "txqueuelen 32: 100 sent, 68 dropped, 32 read in order"
        },
        Expectation.closeFreesQueue.id: GuestCheck { session in
            try session.configureWithPeer()
            let file = try XtunFile.mustOpen()
            try UDPSender(port: 40008).sendNumbered(10)
            let before = session.interface.counters
            file.close()
            let delta = session.interface.counters.delta(since: before)
            try require(delta["tx_dropped"] == 10, expected: "tx_dropped +10 at close",
                        got: Counters.describe(delta))
            let again = try XtunFile.mustOpen(nonblocking: true)
            let stale = again.drain()
            try require(stale.isEmpty, expected: "nothing left for the next open",
                        got: "\(stale.count) stale frames")
            return "close dropped 10 queued frames; the next open reads nothing"
        },
        Expectation.unloadBusyWhileOpen.id: GuestCheck { session in
            let file = try XtunFile.mustOpen()
            let refused = session.module.unload()
            try require(!refused.succeeded && session.module.isLoaded,
                        expected: "rmmod refused while /dev/xtun is open",
                        got: "rmmod: \(refused.summary)")
            file.close()
            let unload = session.module.unload()
            try require(unload.succeeded, expected: "rmmod to work after close", got: unload.summary)
            return "while open: \(refused.summary); after close: exit 0"
        },
        Expectation.blockedReaderExits.id: GuestCheck { session in
            try session.configureWithPeer()
            // A thread blocked in read() while another thread closes the fd.
            let file = try XtunFile.mustOpen()
            let reader = Worker { () -> Int in
                if case .success(let frame) = file.read() { return frame.count }
                return -1
            }
            Sys.sleep(milliseconds: 300)
            let closeStarted = Sys.now()
            file.close()
            let closeTook = Sys.now() - closeStarted
            try require(closeTook < 1, expected: "close() to return at once", got: "\(closeTook) s")
            try UDPSender(port: 40009).send(payload(index: 9, length: 10))
            let length = reader.join()
            try require(length == 52, expected: "the blocked read to return the frame sent after close()",
                        got: "\(length)")
            // A process blocked in read() killed by a signal.
            guard let cat = Command.start(["cat", XtunFile.path]) else {
                throw Failure(expected: "cat to start", got: "cannot run cat")
            }
            Sys.sleep(milliseconds: 500)
            var status: Int32 = 0
            try require(waitpid(cat.pid, &status, WNOHANG) == 0,
                        expected: "cat blocked in read()", got: "cat exited")
            let killed = cat.kill()
            try require(killed.signal == SIGKILL, expected: "cat killed by SIGKILL",
                        got: killed.summary)
            let unload = session.module.unload()
            try require(unload.succeeded, expected: "rmmod to work afterwards", got: unload.summary)
            return "close() returned in \(Int(closeTook * 1000)) ms; killed reader reaped; rmmod ok"
        },
    ]
}
