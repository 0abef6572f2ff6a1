import CLinux
import Glibc
import XtunChecks
import XtunPackets

/// How often one operation of the race test was tried, and how often it worked.
struct RaceCount: Equatable {
    var tried = 0
    var succeeded = 0
}

/// Each thread's counts by operation; the check adds them up.
struct RaceTally: Equatable {
    private(set) var counts: [String: RaceCount] = [:]

    mutating func note(_ operation: String, _ succeeded: Bool) {
        counts[operation, default: RaceCount()].tried += 1
        if succeeded { counts[operation, default: RaceCount()].succeeded += 1 }
    }

    subscript(_ operation: String) -> RaceCount { counts[operation] ?? RaceCount() }

    static func + (left: RaceTally, right: RaceTally) -> RaceTally {
        var sum = left
        for (operation, count) in right.counts {
            sum.counts[operation, default: RaceCount()].tried += count.tried
            sum.counts[operation, default: RaceCount()].succeeded += count.succeeded
        }
        return sum
    }
}

/// `races`: threads that attach and detach files, toggle persistence,
/// delete the devices with RTM_DELLINK, unload and reload the module and
/// send traffic, all at once, on three devices of their own.
struct RaceTest {
    struct Device {
        let name: String
        let flags: Int32
        /// 10.98.N.1/24; the traffic goes to 10.98.N.2, out through the device.
        let subnet: UInt8
    }

    static let devices = [
        Device(name: "rc0", flags: IFF_TAP | IFF_NO_PI, subnet: 0),
        Device(name: "rc1", flags: IFF_TUN | IFF_NO_PI, subnet: 1),
        Device(name: "rc2", flags: IFF_TAP, subnet: 2),
    ]

    let node = DriverNames.characterDevice
    let modulePath: String
    let seconds: Double
    let seed: UInt64

    /// Runs every thread for `seconds`; the tally, or a failure naming a
    /// thread still blocked in the kernel.
    func run(joinTimeout: Double) throws -> RaceTally {
        let deadline = Sys.now() + seconds
        let workers = [
            Worker { attacher(seed: seed, until: deadline) },
            Worker { attacher(seed: seed &+ 1, until: deadline) },
            Worker { deleter(seed: seed &+ 2, until: deadline) },
            Worker { unloader(until: deadline) },
            Worker { sender(until: deadline) },
        ]
        let names = ["attacher 1", "attacher 2", "deleter", "unloader", "sender"]
        var tally = RaceTally()
        for (worker, name) in zip(workers, names) {
            tally = tally + (try worker.mustJoin(timeout: max(0, deadline - Sys.now()) + joinTimeout, name))
        }
        return tally
    }

    /// Opens files, attaches them, detaches them, toggles persistence, and
    /// writes and reads frames on what it holds.
    private func attacher(seed: UInt64, until deadline: Double) -> RaceTally {
        var random = SeededRandom(seed: seed)
        var tally = RaceTally()
        var held: [(fd: Int32, device: Device)] = []
        let socketFD = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { close(socketFD) }
        var buffer = [UInt8](repeating: 0, count: 2048)
        let tapFrame = Frames(xtunMAC: .zero).arpRequestFromPeer()
        let tunPacket = Array(Frames(xtunMAC: .zero).udpFromPeer(sourcePort: 4000, destinationPort: 9,
                                                                 payload: TunScript.udpPayload)
            .dropFirst(EthernetFrame.headerLength))
        var pause = Sys.now() + 0.02
        while Sys.now() < deadline {
            let roll = random.next() % 100
            if Sys.now() > pause {
                // Nothing held for a moment, every 20-60 ms: the unloader's chance.
                for file in held { tally.note("detach", close(file.fd) == 0) }
                held = []
                Sys.sleep(milliseconds: 4)
                pause = Sys.now() + 0.02 + Double(random.next() % 40) / 1000
            } else if held.isEmpty || (held.count < 2 && roll < 25) {
                let device = Self.devices[Int(random.next() % UInt64(Self.devices.count))]
                let fd = open(node, O_RDWR | O_NONBLOCK | O_CLOEXEC)
                tally.note("open", fd >= 0)
                // Unloaded: the unloader loads it again soon.
                guard fd >= 0 else { Sys.sleep(milliseconds: 1); continue }
                if case .success = TunNode.setInterface(fd: fd, name: device.name, flags: device.flags) {
                    tally.note("attach", true)
                    held.append((fd, device))
                    _ = xtun_set_ipv4(socketFD, device.name, IPv4Address(10, 98, device.subnet, 1).value, 24)
                    tally.note("up", xtun_change_interface_flags(socketFD, device.name, Int16(IFF_UP), 0) == 0)
                } else {
                    tally.note("attach", false)
                    close(fd)
                }
            } else if roll < 40 {
                let index = Int(random.next() % UInt64(held.count))
                tally.note("detach", close(held.remove(at: index).fd) == 0)
            } else if roll < 50 {
                let file = held[Int(random.next() % UInt64(held.count))]
                let result = TunNode.set(fd: file.fd, xtun_TUNSETPERSIST, value: UInt(random.next() & 1))
                if case .success = result { tally.note("persist", true) } else { tally.note("persist", false) }
            } else if roll < 80 {
                let file = held[Int(random.next() % UInt64(held.count))]
                var frame = file.device.flags & IFF_TUN != 0 ? tunPacket : tapFrame
                if file.device.flags & IFF_NO_PI == 0 { frame = [0, 0, 0x08, 0x00] + frame }
                tally.note("write", Glibc.write(file.fd, frame, frame.count) == frame.count)
            } else {
                let file = held[Int(random.next() % UInt64(held.count))]
                tally.note("read", Glibc.read(file.fd, &buffer, buffer.count) > 0)
            }
        }
        for file in held { tally.note("detach", close(file.fd) == 0) }
        return tally
    }

    /// `ip link del`, by RTM_DELLINK, on a random device every few milliseconds.
    private func deleter(seed: UInt64, until deadline: Double) -> RaceTally {
        var random = SeededRandom(seed: seed)
        var tally = RaceTally()
        while Sys.now() < deadline {
            let device = Self.devices[Int(random.next() % UInt64(Self.devices.count))]
            tally.note("delete", xtun_delete_link(device.name) == 0)
            Sys.sleep(milliseconds: 8)
        }
        return tally
    }

    /// delete_module() until it works (EAGAIN while a file is open), then
    /// finit_module() at once; loaded again when the time is up.
    private func unloader(until deadline: Double) -> RaceTally {
        var tally = RaceTally()
        var loaded = true
        while Sys.now() < deadline {
            if loaded {
                let result = xtun_delete_module(DriverNames.module, UInt32(O_NONBLOCK))
                let error = errno
                tally.note("unload", result == 0)
                if result == 0 {
                    loaded = false
                } else if error == EAGAIN || error == EBUSY {
                    Sys.sleep(seconds: 0.0005)
                } else {
                    // Not loaded (ENOENT): nothing to retry.
                    loaded = !Sys.exists("/sys/module/\(DriverNames.module)")
                }
            } else {
                loaded = reload(&tally)
                // Let devices be made again before the next unload.
                if loaded { Sys.sleep(milliseconds: 50) } else { Sys.sleep(milliseconds: 5) }
            }
        }
        for _ in 0..<20 where !loaded { loaded = reload(&tally) || Sys.exists("/sys/module/\(DriverNames.module)") }
        return tally
    }

    private func reload(_ tally: inout RaceTally) -> Bool {
        let fd = open(modulePath, O_RDONLY | O_CLOEXEC)
        defer { if fd >= 0 { close(fd) } }
        let result = xtun_finit_module(fd, "", 0)
        tally.note("reload", result == 0)
        return result == 0
    }

    /// UDP datagrams to 10.98.N.2, out through each device in turn.
    private func sender(until deadline: Double) -> RaceTally {
        var tally = RaceTally()
        let socketFD = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { close(socketFD) }
        let payload = TunScript.udpPayload
        var index = 0
        while Sys.now() < deadline {
            let device = Self.devices[index % Self.devices.count]
            index += 1
            var address = socketAddress(IPv4Address(10, 98, device.subnet, 2), port: LabNetwork.discardPort)
            let sent = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(socketFD, payload, payload.count, Int32(MSG_DONTWAIT), $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            tally.note("udp", sent == payload.count)
            Sys.sleep(seconds: 0.0003)
        }
        return tally
    }

    /// The check: the race, then the module loaded, no rc device, no alarm.
    static func check(_ session: Session) throws -> String {
        let mark = session.log.mark
        let seconds = 2.5 * session.timeScale
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let seed = UInt64(now.tv_sec) &* 1_000_000 &+ UInt64(now.tv_nsec / 1000)
        let race = RaceTest(modulePath: session.module.path, seconds: seconds, seed: seed)
        let tally: RaceTally
        do {
            tally = try race.run(joinTimeout: 15 * session.timeScale)
        } catch {
            session.blockedCheck = .races
            throw error
        }
        let loaded = session.module.isLoaded
        var leaked: [String] = []
        var deletedAtEnd = 0
        for device in devices where Sys.exists("/sys/class/net/\(device.name)") {
            let flags = Int32(Sys.read("/sys/class/net/\(device.name)/tun_flags")?.dropFirst(2) ?? "", radix: 16) ?? 0
            if flags & IFF_PERSIST == 0 { leaked.append(device.name) }
            if xtun_delete_link(device.name) == 0 { deletedAtEnd += 1 }
        }
        let left = devices.map(\.name).filter { Sys.exists("/sys/class/net/\($0)") }
        let alarm = KernelLog(lines: Array(session.log.since(mark))).firstAlarm
        let counts = describe(tally)
        try require(alarm == nil, expected: "no kernel alarm during the race (seed \(seed))", got: alarm ?? "")
        try require(loaded, expected: "\(DriverNames.module) loaded again at the end", got: "not loaded; \(counts)")
        try require(leaked.isEmpty, expected: "no rc device without IFF_PERSIST once every file closed",
                    got: leaked.joined(separator: ", "))
        try require(left.isEmpty, expected: "no rc device left after RTM_DELLINK", got: left.joined(separator: ", "))
        try require(tally["attach"].succeeded > 0 && tally["delete"].succeeded > 0 && tally["unload"].succeeded > 0
                        && tally["reload"].succeeded == tally["unload"].succeeded,
                    expected: "attaches, RTM_DELLINKs, unloads and as many reloads that worked", got: counts)
        try session.ensureLoaded()
        return "rc0-rc2 for \(String(format1: seconds)) s: \(counts); module loaded, "
            + "\(deletedAtEnd) persistent rc devices deleted at the end, no rc device left"
    }

    /// "attached 812 of 1,530, …".
    static func describe(_ tally: RaceTally) -> String {
        let of = { (operation: String) in
            "\(grouped(tally[operation].succeeded)) of \(grouped(tally[operation].tried))"
        }
        return "attached \(of("attach")), detached \(grouped(tally["detach"].succeeded)), "
            + "persist toggled \(of("persist")), RTM_DELLINK \(of("delete")), "
            + "delete_module \(of("unload")), finit_module \(of("reload")), \(grouped(tally["write"].succeeded)) frames written, "
            + "\(grouped(tally["read"].succeeded)) read, \(of("udp")) datagrams sent"
    }
}
