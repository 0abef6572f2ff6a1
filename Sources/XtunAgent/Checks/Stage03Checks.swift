import CLinux
import Glibc
import XtunChecks
import XtunPackets

/// Stage 03 (`XtunChecks/Stages/Stage03Tx.swift`): /dev/xtun hands the
/// reader what the stack transmits.
enum Stage03Checks {
    static let all: [GuestCheck] = [
        // Stage 01's walk, now that init also registers the misc device.
        GuestCheck(.initUnwindsWithDevice, needsModule: false, timeout: 900) {
            try InitFailures(session: $0, mustReach: "misc_register").check()
        },
        GuestCheck(.charDevice) { session in
            let path = DriverNames.characterDevice
            var info = stat()
            let status = stat(path, &info)
            let error = Errno.current
            try require(status == 0, expected: "\(path) to exist", got: "\(error)")
            let isCharacter = info.st_mode & S_IFMT == S_IFCHR
            let major = xtun_major(info.st_rdev), minor = xtun_minor(info.st_rdev)
            try require(isCharacter && major == miscMajor,
                        expected: "a character device with major \(miscMajor) (misc)",
                        got: "mode \(String(info.st_mode, radix: 8)), major \(major)")
            return "char \(major):\(minor)"
        },
        GuestCheck(.readUdpExact) { session in
            try session.configureWithPeer()
            let device = try session.openDevice()
            let data = Array("xtun lab: one datagram, read back byte for byte".utf8)
            try UDPSender(port: 40001).send(data)
            let expected = try session.frames().udpFromLocal(sourcePort: 40001, destinationPort: LabNetwork.discardPort,
                                                             payload: data)
            guard let frame = device.nextFrame(timeout: 2) else {
                throw Failure(expected: "a frame within 2 s", got: "nothing to read")
            }
            try require(frame == expected,
                        expected: "\(expected.count) bytes: \(hexDump(expected, limit: 48))",
                        got: FrameComparison.describe(got: frame, expected: expected))
            return "\(frame.count) bytes: Ethernet, IPv4 (checksum ok), UDP (checksum ok), payload"
        },
        GuestCheck(.readFrameBoundaries) { session in
            try session.configureWithPeer()
            let device = try session.openDevice()
            let sender = try UDPSender(port: 40002)
            let sizes = [1, 100, 1000]
            for size in sizes { try sender.send(NumberedPayload.make(index: size, length: size)) }
            var lengths: [Int] = []
            for _ in sizes {
                guard let frame = device.nextFrame(timeout: 2) else { break }
                lengths.append(frame.count)
            }
            let extra = device.drain().count
            let expected = sizes.map { $0 + FrameSize.udpOverhead }
            try require(lengths == expected && extra == 0,
                        expected: "reads of \(expected) bytes, then nothing",
                        got: "reads of \(lengths) bytes, then \(extra) more frames")
            return "reads returned \(lengths) bytes"
        },
        GuestCheck(.nonblockEagain) { session in
            try session.configureWithPeer()
            let device = try session.openDevice(nonblocking: true)
            let started = Sys.now()
            // Bounded: a driver that ignores O_NONBLOCK would block here for good.
            let result = try bounded(2, "an O_NONBLOCK read() on an empty queue") { device.read() }
            let elapsed = Sys.now() - started
            guard case .failure(let error) = result else {
                throw Failure(expected: "EAGAIN", got: "a frame")
            }
            try require(error.code == EAGAIN, expected: "EAGAIN", got: "\(error)")
            try require(elapsed < 0.5, expected: "an immediate return", got: "\(elapsed) s")
            return "EAGAIN at once"
        },
        GuestCheck(.blockedReaderWakes) { session in
            try session.configureWithPeer()
            let device = try session.openDevice()
            let reader = Worker { () -> (Result<[UInt8], Errno>, Double) in (device.read(), Sys.now()) }
            Sys.sleep(milliseconds: 500)
            let sentAt = Sys.now()
            let size = 10
            try UDPSender(port: 40003).send(NumberedPayload.make(index: 1, length: size))
            let (read, wokeAt) = try reader.mustJoin(timeout: 5, "the blocked read()")
            let frame = try read.get(expected: "the blocked read to return a frame")
            try require(frame.count == size + FrameSize.udpOverhead,
                        expected: "the blocked read to return the \(size + FrameSize.udpOverhead)-byte frame",
                        got: "\(frame.count) bytes")
            try require(wokeAt >= sentAt && wokeAt - sentAt < 2,
                        expected: "the read to return after the send, within 2 s",
                        got: "returned \(wokeAt - sentAt) s after the send")
            return "woke \(Int((wokeAt - sentAt) * 1000)) ms after the send"
        },
        GuestCheck(.pollReadiness) { session in
            try session.configureWithPeer()
            let device = try session.openDevice()
            let inMask = Int16(POLLIN)
            try require(device.poll(inMask, timeout: 0) & inMask == 0,
                        expected: "no POLLIN on an empty queue", got: "POLLIN")
            let epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
            defer { close(epoll) }
            var event = epoll_event()
            event.events = EPOLLIN.rawValue
            event.data.fd = device.fd
            let added = epoll_ctl(epoll, EPOLL_CTL_ADD, device.fd, &event)
            let error = Errno.current
            try require(added == 0, expected: "epoll_ctl to succeed", got: "\(error)")
            var events = [epoll_event](repeating: epoll_event(), count: 4)
            try require(epoll_wait(epoll, &events, 4, 0) == 0,
                        expected: "no epoll event on an empty queue", got: "an event")
            try UDPSender(port: 40004).send(NumberedPayload.make(index: 2, length: 10))
            try require(device.poll(inMask, timeout: 2) & inMask != 0,
                        expected: "POLLIN after a frame is sent", got: "no POLLIN in 2 s")
            try require(epoll_wait(epoll, &events, 4, 0) == 1 && events[0].events & EPOLLIN.rawValue != 0,
                        expected: "EPOLLIN from epoll_wait", got: "no event")
            _ = device.drain()
            try require(device.poll(inMask, timeout: 0) & inMask == 0,
                        expected: "no POLLIN once the frame is read", got: "POLLIN")
            return "POLLIN/EPOLLIN off, on after the send, off after the read"
        },
        GuestCheck(.shortReadTruncates) { session in
            try session.configureWithPeer()
            let device = try session.openDevice(nonblocking: true)
            let data = NumberedPayload.make(index: 3, length: 100)
            try UDPSender(port: 40005).send(data)
            let expected = try session.frames().udpFromLocal(sourcePort: 40005, destinationPort: LabNetwork.discardPort,
                                                             payload: data)
            guard device.poll(Int16(POLLIN), timeout: 2) != 0 else {
                throw Failure(expected: "a frame within 2 s", got: "nothing to read")
            }
            let before = session.interface.counters
            let head = try device.read(capacity: 20).get(expected: "a 20-byte read to succeed")
            try require(head == Array(expected.prefix(20)),
                        expected: "the frame's first 20 bytes", got: hexDump(head))
            let rest = device.drain()
            try require(rest.isEmpty, expected: "the rest of the frame dropped",
                        got: "\(rest.count) more reads, \(rest.map(\.count)) bytes")
            let delta = session.interface.counters.delta(since: before)
            try require(delta["tx_packets"] == 1 && delta["tx_bytes"] == expected.count,
                        expected: "tx_packets +1, tx_bytes +\(expected.count) (the whole frame)",
                        got: Counters.describe(delta))
            return "read(20) returned 20 bytes of a \(expected.count)-byte frame; then EAGAIN"
        },
        GuestCheck(.secondOpenBusy) { session in
            let first = try session.openDevice()
            switch FrameDevice.open(session.deviceKind) {
            case .success: throw Failure(expected: "EBUSY", got: "a second open succeeded")
            case .failure(let error):
                try require(error.code == EBUSY, expected: "EBUSY", got: "\(error)")
            }
            first.close()
            let third = try session.openDevice()
            third.close()
            return "second open: EBUSY; open after close: ok"
        },
        GuestCheck(.closedDrops) { session in
            try session.configureWithPeer()
            let before = session.interface.counters
            try UDPSender(port: 40006).sendNumbered(5)
            let delta = session.interface.counters.delta(since: before)
            try require(delta["tx_dropped"] == 5 && delta["tx_packets"] == nil,
                        expected: "tx_dropped +5, tx_packets +0", got: Counters.describe(delta))
            return "tx_dropped +5"
        },
        GuestCheck(.overflowBounded) { session in
            try session.configureWithPeer()
            let queue = 32, sent = 100
            try session.network.setQueueLength(queue)
            let device = try session.openDevice()
            let before = session.interface.counters
            try UDPSender(port: 40007).sendNumbered(sent)
            let queuedDelta = session.interface.counters.delta(since: before)
            try require(queuedDelta["tx_dropped"] == sent - queue,
                        expected: "tx_dropped +\(sent - queue) (\(sent) sent, \(queue) queued)",
                        got: Counters.describe(queuedDelta))
            let frames = device.drain()
            let order = frames.compactMap { NumberedPayload.index(of: $0.dropFirst(FrameSize.udpOverhead)) }
            try require(frames.count == queue, expected: "exactly \(queue) frames to read",
                        got: "\(frames.count) frames")
            try require(order == Array(0..<queue), expected: "datagrams 0...\(queue - 1) in order (FIFO)",
                        got: "\(order)")
            let delta = session.interface.counters.delta(since: before)
            try require(delta["tx_packets"] == queue, expected: "tx_packets +\(queue)",
                        got: Counters.describe(delta))
            return "txqueuelen \(queue): \(sent) sent, \(sent - queue) dropped, \(queue) read in order"
        },
        GuestCheck(.closeFreesQueue) { session in
            try session.configureWithPeer()
            let device = try session.openDevice()
            try UDPSender(port: 40008).sendNumbered(10)
            let before = session.interface.counters
            device.close()
            let delta = session.interface.counters.delta(since: before)
            try require(delta["tx_dropped"] == 10, expected: "tx_dropped +10 at close",
                        got: Counters.describe(delta))
            let again = try session.openDevice(nonblocking: true)
            let stale = again.drain()
            try require(stale.isEmpty, expected: "nothing left for the next open",
                        got: "\(stale.count) stale frames")
            return "close dropped 10 queued frames; the next open reads nothing"
        },
        GuestCheck(.zerocopyReleased) { session in
            try session.configureWithPeer()
            let device = try session.openDevice()
            let sender = try UDPSender(port: 40010)
            try sender.socket.set(SOL_SOCKET, SO_ZEROCOPY, 1, "SO_ZEROCOPY")
            let data = NumberedPayload.make(index: 10, length: 1000)
            try sender.send(data, flags: Int32(MSG_ZEROCOPY))
            // The completion sits on the socket's error queue once the kernel no
            // longer needs the sender's pages.
            var low: UInt32 = 0, high: UInt32 = 0, code: UInt32 = 0
            var completed: Int32 = 0
            _ = Sys.wait(seconds: 2 * session.timeScale) {
                completed = xtun_zerocopy_completion(sender.socket.fd, &low, &high, &code)
                return completed != 0
            }
            let error = Errno.current
            let queued = device.poll(Int16(POLLIN), timeout: 0) & Int16(POLLIN) != 0
            try require(completed == 1,
                        expected: "the send's completion while its frame waits unread",
                        got: completed < 0 ? "recvmsg(MSG_ERRQUEUE): \(error)"
                            : "no completion in \(seconds(2 * session.timeScale)); the frame is "
                                + (queued ? "still queued: it holds the sender's send" : "gone"))
            try require(queued, expected: "the frame still queued", got: "nothing to read")
            let expected = try session.frames().udpFromLocal(sourcePort: 40010, destinationPort: LabNetwork.discardPort,
                                                             payload: data)
            let frame = device.nextFrame(timeout: 1)
            try require(frame == expected, expected: "the \(expected.count)-byte frame intact",
                        got: frame.map { FrameComparison.describe(got: $0, expected: expected) } ?? "nothing")
            let copied = code & UInt32(SO_EE_CODE_ZEROCOPY_COPIED) != 0
            return "send \(low)...\(high) completed before the read" + (copied ? " (SO_EE_CODE_ZEROCOPY_COPIED)" : "")
                + "; frame read back intact"
        },
        GuestCheck(.netconsoleOut) { session in
            try session.configureWithPeer()
            let device = try session.openDevice()
            let netconsole = Netconsole(interface: session.interface)
            let mark = session.log.mark
            let binding = try netconsole.bind()
            defer { netconsole.unbind(binding) }
            // From process context: a message written to the kernel log.
            let marker = "xtun-lab netconsole marker \(Int(Sys.uptime() * 1000))"
            try Sys.write("<6>\(marker)\n", to: "/dev/kmsg")
            let (direct, _) = device.frame(matching: { Netconsole.message(in: $0)?.contains(marker) == true },
                                           timeout: 3 * session.timeScale)
            try require(direct != nil, expected: "the marker as a UDP datagram to \(LabNetwork.peer):\(Netconsole.remotePort)",
                        got: "nothing within \(seconds(3 * session.timeScale))")
            // From interrupt context: the other CPU's backtrace, taken in an NMI,
            // is printed from an irq_work, so netpoll calls ndo_start_xmit in hardirq.
            let before = session.log.mark
            try Sys.write("l", to: "/proc/sysrq-trigger")
            let (nmi, _) = device.frame(matching: { Netconsole.message(in: $0)?.contains("NMI backtrace for cpu") == true },
                                        timeout: 5 * session.timeScale)
            Sys.sleep(seconds: 1)
            session.provokedStacks.append(before..<session.log.mark)
            try require(nmi != nil, expected: "an \"NMI backtrace for cpu\" line through netconsole after sysrq l",
                        got: "none")
            device.close()
            netconsole.unbind(binding)
            // Lockdep (the debug kernel) says here if the queue's lock is taken unsafely.
            let ours = KernelLog(lines: Array(session.log.since(mark))).allowingProvoked(in: 0..<Int.max)
            try require(ours.firstAlarm == nil, expected: "no WARN, BUG or lockdep report while netconsole ran",
                        got: ours.alarmExcerpt(limit: 14).joined(separator: "\n"))
            return "the marker and an NMI backtrace arrived as UDP from \(LabNetwork.local):\(Netconsole.localPort)"
        },
        GuestCheck(.unloadBusyWhileOpen) { session in
            let device = try session.openDevice()
            let refused = session.module.unload()
            try require(!refused.succeeded && session.module.isLoaded,
                        expected: "rmmod refused while \(DriverNames.characterDevice) is open",
                        got: "rmmod: \(refused.summary)")
            device.close()
            let unload = session.module.unload()
            try require(unload.succeeded, expected: "rmmod to work after close", got: unload.summary)
            return "while open: \(refused.summary); after close: exit 0"
        },
        GuestCheck(.blockedReaderExits) { session in
            try session.configureWithPeer()
            // A thread blocked in read() while another thread closes the fd.
            let device = try session.openDevice()
            let reader = Worker { () -> Result<[UInt8], Errno> in device.read() }
            Sys.sleep(milliseconds: 300)
            let closeStarted = Sys.now()
            device.close()
            let closeTook = Sys.now() - closeStarted
            try require(closeTook < 1, expected: "close() to return at once", got: "\(closeTook) s")
            let size = 10
            try UDPSender(port: 40009).send(NumberedPayload.make(index: 9, length: size))
            let read = try reader.mustJoin(timeout: 5, "the read() blocked across close()")
            let frame = try read.get(expected: "the blocked read to return the frame sent after close()")
            try require(frame.count == size + FrameSize.udpOverhead,
                        expected: "the blocked read to return the frame sent after close()",
                        got: "\(frame.count) bytes")
            // A process blocked in read() killed by a signal.
            let cat = try Command.mustStart(session.blockingReader())
            Sys.sleep(milliseconds: 500)
            try require(cat.isRunning, expected: "a reader blocked in read()", got: "it exited: \(cat.outputSoFar())")
            let killed = cat.kill()
            try require(killed.signal == SIGKILL, expected: "the reader killed by SIGKILL", got: killed.summary)
            let unload = session.module.unload()
            try require(unload.succeeded, expected: "rmmod to work afterwards", got: unload.summary)
            return "close() returned in \(Int(closeTook * 1000)) ms; killed reader reaped; rmmod ok"
        },
    ]

    /// MISC_MAJOR in include/uapi/linux/major.h.
    static let miscMajor: UInt32 = 10
}
