import CLinux
import Glibc
import XtunChecks
import XtunPackets

/// What one fuzzing process did: its calls, how they ended, and the
/// evidence that the driver was reached (devices attached, frames moved).
/// A process prints it as one line of `key=value` words; the check parses
/// the four lines back and adds them up.
struct FuzzTally: Equatable {
    var calls = 0
    var succeeded = 0
    /// Failed calls by errno name (`EINVAL`), `E<number>` for a name `Errno` lacks.
    var errors: [String: Int] = [:]
    /// TUNSETIFF calls that made or attached a device.
    var attached = 0
    /// Writes of at least one byte that the driver took.
    var written = 0
    /// Reads that returned a frame.
    var read = 0
    /// Devices brought up with SIOCSIFFLAGS.
    var broughtUp = 0

    mutating func record(failure code: Int32) {
        let name = Errno.names[code] ?? "E\(code)"
        errors[name, default: 0] += 1
    }

    var line: String {
        let counts = [("calls", calls), ("ok", succeeded), ("setiff", attached), ("written", written),
                      ("read", read), ("up", broughtUp)]
        return (counts + errors.sorted { $0.key < $1.key }).map { "\($0.0)=\($0.1)" }.joined(separator: " ")
    }

    /// Parses `line`; nil if it is not one.
    init?(line: String) {
        for word in line.split(separator: " ") {
            let parts = word.split(separator: "=")
            guard parts.count == 2, let value = Int(parts[1]) else { return nil }
            switch parts[0] {
            case "calls": calls = value
            case "ok": succeeded = value
            case "setiff": attached = value
            case "written": written = value
            case "read": read = value
            case "up": broughtUp = value
            case let name where name.hasPrefix("E"): errors[String(name)] = value
            default: return nil
            }
        }
        guard calls > 0 else { return nil }
    }

    init() {}

    static func + (left: FuzzTally, right: FuzzTally) -> FuzzTally {
        var sum = left
        sum.calls += right.calls
        sum.succeeded += right.succeeded
        sum.errors.merge(right.errors, uniquingKeysWith: +)
        sum.attached += right.attached
        sum.written += right.written
        sum.read += right.read
        sum.broughtUp += right.broughtUp
        return sum
    }
}

/// The ioctl numbers the fuzzer draws, without the ones the VFS answers
/// itself before the driver sees them (`do_vfs_ioctl()`, fs/ioctl.c): some
/// change the file or its file system, not the driver (FIFREEZE freezes
/// devtmpfs, FS_IOC_SETFLAGS can make /dev/xtun immutable, FIONBIO and
/// FIOCLEX change the file), and none of them tests xtun.
enum FuzzIoctls {
    /// do_vfs_ioctl()'s own numbers in 6.1 and 6.12, and file_ioctl()'s.
    static let vfs: Set<UInt> = [
        xtun_FIOCLEX, xtun_FIONCLEX, xtun_FIONBIO, xtun_FIOASYNC, xtun_FIOQSIZE, xtun_FIFREEZE, xtun_FITHAW,
        xtun_FS_IOC_FIEMAP, xtun_FIGETBSZ, xtun_FIBMAP, xtun_FICLONE, xtun_FICLONERANGE, xtun_FIDEDUPERANGE,
        xtun_FS_IOC_GETFLAGS, xtun_FS_IOC_SETFLAGS, xtun_FS_IOC_FSGETXATTR, xtun_FS_IOC_FSSETXATTR,
        xtun_FS_IOC_GETFSUUID, xtun_FS_IOC_GETFSSYSFSPATH,
    ]

    /// Types never drawn outside tun's 'T': every number of theirs that
    /// fs/ioctl.c knows (0x00 FIBMAP and FIGETBSZ, 'X' freeze, thaw, fsxattr
    /// and the RESVSP family, 'f' flags and FIEMAP, 0x94 the clones, 0x15
    /// the fs UUID and sysfs path), with room for what a later kernel adds.
    static let vfsTypes: Set<UInt32> = [0x00, 0x58, 0x66, 0x94, 0x15]

    static let tunType: UInt32 = 0x54

    /// Whether `request` must not be sent: the VFS would act on it.
    static func isExcluded(_ request: UInt) -> Bool {
        if vfs.contains(request) { return true }
        let type = xtun_ioc_type(request)
        return type != tunType && vfsTypes.contains(type)
    }

    /// A random number in tun's 'T' space: often near tun's own (200-230).
    static func tun(_ random: inout SeededRandom) -> UInt {
        draw(&random) { random in
            let number = random.next() & 1 == 0 ? 200 + UInt32(random.next() % 31) : UInt32(random.next() & 0xff)
            return xtun_ioc(UInt32(random.next() & 3), tunType, number, size(&random))
        }
    }

    /// A random number of any other type.
    static func elsewhere(_ random: inout SeededRandom) -> UInt {
        draw(&random) { random in
            xtun_ioc(UInt32(random.next() & 3), UInt32(random.next() & 0xff), UInt32(random.next() & 0xff),
                     size(&random))
        }
    }

    private static func size(_ random: inout SeededRandom) -> UInt32 {
        let sizes: [UInt32] = [0, 4, 8, UInt32(MemoryLayout<ifreq>.size)]
        let pick = Int(random.next() % 5)
        return pick < sizes.count ? sizes[pick] : UInt32(random.next() & 0x3fff)
    }

    private static func draw(_ random: inout SeededRandom, _ make: (inout SeededRandom) -> UInt) -> UInt {
        while true {
            let request = make(&random)
            if !isExcluded(request) { return request }
        }
    }
}

/// One fuzzing process (`xtun-agent fuzz`): `calls` random calls on files
/// of the node, from a seeded generator, so the same seed makes the same
/// calls. It keeps up to four files open, non-blocking, and touches only
/// devices named fz… (and the default names an empty name gives).
struct Fuzzer {
    static let maxFiles = 4
    static let bufferSize = 4096
    /// The devices it makes, and the names TUNSETIFF must refuse or mend:
    /// too long (no NUL in IFNAMSIZ bytes), empty (a default name), ".",
    /// a slash, a space, two templates.
    static let names = ["fz0", "fz1", "fz2", "fz3", "fz4", "fz5", "fz%d", "fz0", "fz1", "fz2", "fz%d",
                        "fzzzzzzzzzzzzzzzzzzzzzzz", "", ".", "fz/1", "fz 1", "fz%d%d"]
    static let upNames = ["fz0", "fz1", "fz2", "fz3", "fz4", "fz5"]
    static let optionalFlags = [IFF_TUN_EXCL, IFF_MULTI_QUEUE, IFF_VNET_HDR, IFF_NAPI, IFF_NAPI_FRAGS,
                                IFF_NO_CARRIER, IFF_PERSIST, IFF_ATTACH_QUEUE, IFF_DETACH_QUEUE, IFF_ONE_QUEUE]

    let node: String
    private var random: SeededRandom
    private var files: [Int32] = []
    private(set) var tally = FuzzTally()
    /// Random bytes: what a valid argument points to, what writes send.
    private let buffer: UnsafeMutableRawPointer
    private let readBuffer: UnsafeMutableRawPointer
    /// For SIOCSIFFLAGS.
    private let socketFD: Int32

    init(node: String, seed: UInt64) {
        self.node = node
        random = SeededRandom(seed: seed)
        buffer = UnsafeMutableRawPointer.allocate(byteCount: Self.bufferSize, alignment: 16)
        readBuffer = UnsafeMutableRawPointer.allocate(byteCount: Self.bufferSize, alignment: 16)
        for offset in stride(from: 0, to: Self.bufferSize, by: 8) {
            buffer.storeBytes(of: random.next(), toByteOffset: offset, as: UInt64.self)
        }
        socketFD = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    }

    /// The child's side: becomes `uid` if asked, makes the calls, prints its tally.
    static func runChild(_ fuzz: AgentFuzz) -> Int32 {
        if fuzz.uid != 0 {
            guard xtun_drop_groups() == 0, setgid(gid_t(fuzz.uid)) == 0, setuid(uid_t(fuzz.uid)) == 0 else {
                print("cannot become \(fuzz.uid): \(Errno.current.name)")
                return 1
            }
        }
        var fuzzer = Fuzzer(node: fuzz.node, seed: fuzz.seed)
        fuzzer.run(calls: fuzz.calls)
        print(fuzzer.tally.line)
        return 0
    }

    mutating func run(calls: Int) {
        while tally.calls < calls { step() }
        for fd in files { close(fd) }
        files = []
        close(socketFD)
        buffer.deallocate()
        readBuffer.deallocate()
    }

    private mutating func below(_ bound: Int) -> Int { Int(random.next() % UInt64(bound)) }

    private mutating func chance(_ percent: Int) -> Bool { below(100) < percent }

    /// One call, chosen by weight (out of 1000).
    private mutating func step() {
        tally.calls += 1
        guard let fd = pickFile() else { return openFile() }
        switch below(1000) {
        case 0..<6: openFile()
        case 6..<11: closeFile()
        case 11..<14: duplicate(fd)
        case 14..<60: setInterface(fd)
        case 60..<85: check(xtun_ioctl_value(fd, xtun_TUNSETPERSIST, [0, 1, 1, UInt(random.next())][below(4)]))
        case 85..<110:
            let request = chance(50) ? xtun_TUNSETOWNER : xtun_TUNSETGROUP
            check(xtun_ioctl_value(fd, request, [0, 1000, 65534, UInt(UInt32.max), UInt(random.next())][below(5)]))
        case 110..<135: intPointer(fd, xtun_TUNSETCARRIER, [0, 1, 1, Int32(truncatingIfNeeded: random.next())][below(4)])
        case 135..<160:
            let value = [0, 4096, Int32.max, -1, Int32(truncatingIfNeeded: random.next())][below(5)]
            intPointer(fd, chance(70) ? xtun_TUNSETSNDBUF : xtun_TUNGETSNDBUF, value)
        case 160..<210: check(xtun_ioctl_pointer(fd, xtun_TUNGETIFF, argument()))
        case 210..<240: check(xtun_ioctl_pointer(fd, xtun_TUNGETFEATURES, argument()))
        case 240..<260: check(xtun_ioctl_pointer(fd, UInt(SIOCGIFHWADDR), argument()))
        case 260..<280: setHardwareAddress(fd)
        case 280..<480: randomIoctl(fd, FuzzIoctls.tun(&random))
        case 480..<620: randomIoctl(fd, FuzzIoctls.elsewhere(&random))
        case 620..<800: write(fd)
        case 800..<980: read(fd)
        case 980..<995:
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN | POLLOUT), revents: 0)
            check(poll(&descriptor, 1, 0))
        default: changeFlags()
        }
    }

    private mutating func pickFile() -> Int32? { files.isEmpty ? nil : files[below(files.count)] }

    /// Records a system call's result: negative is a failure with errno,
    /// or (from linux.h's helpers) minus the errno.
    private mutating func check(_ result: Int32) {
        let error = errno
        if result >= 0 {
            tally.succeeded += 1
        } else {
            tally.record(failure: result == -1 ? error : -result)
        }
    }

    /// What a pointer argument points to: the random bytes mostly, else
    /// NULL or an address no process may pass (EFAULT).
    private mutating func argument() -> UnsafeMutableRawPointer? {
        switch below(10) {
        case 0: return nil
        case 1: return UnsafeMutableRawPointer(bitPattern: 0x10)
        case 2: return UnsafeMutableRawPointer(bitPattern: UInt(0xffff_8880_0000_0000))
        default:
            buffer.storeBytes(of: random.next(), toByteOffset: 8 * below(8), as: UInt64.self)
            return buffer
        }
    }

    private mutating func openFile() {
        if files.count >= Self.maxFiles { return closeFile() }
        let fd = open(node, O_RDWR | O_NONBLOCK | O_CLOEXEC)
        check(fd)
        if fd >= 0 { files.append(fd) }
    }

    private mutating func closeFile() {
        guard !files.isEmpty else { return check(close(-1)) }
        check(close(files.remove(at: below(files.count))))
    }

    private mutating func duplicate(_ fd: Int32) {
        guard files.count < Self.maxFiles else { return closeFile() }
        let copy = fcntl(fd, F_DUPFD_CLOEXEC, 0)
        check(copy)
        if copy >= 0 { files.append(copy) }
    }

    private mutating func setInterface(_ fd: Int32) {
        var request = ifreq()
        let name = Self.names[below(Self.names.count)]
        withUnsafeMutableBytes(of: &request.ifr_ifrn.ifrn_name) { bytes in
            for (index, byte) in name.utf8.prefix(bytes.count).enumerated() { bytes[index] = byte }
        }
        var flags = [IFF_TAP | IFF_NO_PI, IFF_TUN | IFF_NO_PI, IFF_TAP, IFF_TUN, 0, IFF_TUN | IFF_TAP][below(6)]
        for flag in Self.optionalFlags where chance(4) { flags |= flag }
        if chance(3) { flags = Int32(truncatingIfNeeded: random.next()) }
        request.ifr_ifru.ifru_flags = Int16(truncatingIfNeeded: flags)
        let result = chance(5) ? xtun_ioctl_pointer(fd, xtun_TUNSETIFF, chance(50) ? nil : UnsafeMutableRawPointer(bitPattern: 0x10))
            : ioctl(fd, xtun_TUNSETIFF, &request)
        check(result)
        if result == 0 { tally.attached += 1 }
    }

    private mutating func intPointer(_ fd: Int32, _ request: UInt, _ value: Int32) {
        if chance(10) { return check(xtun_ioctl_pointer(fd, request, argument())) }
        var value = value
        check(ioctl(fd, request, &value))
    }

    private mutating func setHardwareAddress(_ fd: Int32) {
        if chance(10) { return check(xtun_ioctl_pointer(fd, UInt(SIOCSIFHWADDR), argument())) }
        var request = ifreq()
        request.ifr_ifru.ifru_hwaddr.sa_family = sa_family_t(chance(80) ? ARPHRD_ETHER : Int32(below(0x10000)))
        let first = random.next()
        withUnsafeMutableBytes(of: &request.ifr_ifru.ifru_hwaddr.sa_data) { bytes in
            for index in 0..<6 { bytes[index] = UInt8(truncatingIfNeeded: first >> (8 * index)) }
        }
        check(ioctl(fd, UInt(SIOCSIFHWADDR), &request))
    }

    /// A number the driver may not know, with bytes, NULL, a bad pointer
    /// or a small value. TUNSETIFF drawn this way still gets a fz name.
    private mutating func randomIoctl(_ fd: Int32, _ request: UInt) {
        var pointer = chance(10) ? UnsafeMutableRawPointer(bitPattern: UInt(below(4096))) : argument()
        if request == xtun_TUNSETIFF {
            pointer = buffer
            let name = Self.upNames[below(Self.upNames.count)]
            for (index, byte) in (Array(name.utf8) + [0]).enumerated() {
                buffer.storeBytes(of: byte, toByteOffset: index, as: UInt8.self)
            }
        }
        let result = xtun_ioctl_pointer(fd, request, pointer)
        check(result)
        if result == 0 && request == xtun_TUNSETIFF { tally.attached += 1 }
    }

    private mutating func write(_ fd: Int32) {
        let length = below(2001)
        buffer.storeBytes(of: random.next(), toByteOffset: 8 * below(4), as: UInt64.self)
        let source: UnsafeRawPointer? = chance(5) ? UnsafeRawPointer(bitPattern: 0x10) : UnsafeRawPointer(buffer)
        let count = Glibc.write(fd, source, length)
        check(count < 0 ? -1 : 0)
        if count > 0 { tally.written += 1 }
    }

    private mutating func read(_ fd: Int32) {
        let capacity = chance(10) ? below(16) : 2048
        let count = Glibc.read(fd, chance(3) ? UnsafeMutableRawPointer(bitPattern: 0x10) : readBuffer, capacity)
        check(count < 0 ? -1 : 0)
        if count > 0 { tally.read += 1 }
    }

    /// Up (mostly) or down, on a socket: frames flow through what is up.
    private mutating func changeFlags() {
        let name = Self.upNames[below(Self.upNames.count)]
        let up = chance(80)
        let result = xtun_change_interface_flags(socketFD, name, up ? Int16(IFF_UP) : 0, up ? 0 : Int16(IFF_UP))
        check(result)
        if result == 0 && up { tally.broughtUp += 1 }
    }
}

/// `fuzz`: four fuzzing processes at once, then the cleanup and the verdict.
enum FuzzCheck {
    static let processes = 4
    static let callsEach = 25_000
    /// The fourth process runs as this user, without capabilities.
    static let user = 1000

    static func run(_ session: Session) throws -> String {
        let node = DriverNames.characterDevice
        let before = Set(Sys.list("/sys/class/net") ?? [])
        try require(!before.contains { $0.hasPrefix("fz") }, expected: "no fz device before the fuzzer",
                    got: before.filter { $0.hasPrefix("fz") }.sorted().joined(separator: ", "))
        let mark = session.log.mark
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let seed = UInt64(now.tv_sec) &* 1_000_000 &+ UInt64(now.tv_nsec / 1000)
        let children = try (0..<processes).map { index in
            let fuzz = AgentFuzz(seed: seed &+ UInt64(index), calls: callsEach, node: node,
                                 uid: index == 3 ? user : 0)
            return try Command.mustStart([TunScript.agentPath] + AgentCommand.fuzz(fuzz).arguments)
        }
        let deadline = Sys.now() + 30 * session.timeScale
        let results = children.map { $0.finish(timeout: max(0, deadline - Sys.now())) }

        // Every file is closed now: what is left must be persistent.
        let made = Set(Sys.list("/sys/class/net") ?? []).subtracting(before).sorted()
        var persistent: [String] = []
        var notPersistent: [String] = []
        var undeleted: [String] = []
        for name in made {
            let flags = Int32(Sys.read("/sys/class/net/\(name)/tun_flags")?.dropFirst(2) ?? "", radix: 16) ?? 0
            if flags & IFF_PERSIST != 0 { persistent.append(name) } else { notPersistent.append(name) }
            let deleted = xtun_delete_link(name)
            if deleted != 0 { undeleted.append("\(name): \(Errno(code: -deleted).name)") }
        }
        let left = Set(Sys.list("/sys/class/net") ?? []).subtracting(before).sorted()
        let alarm = KernelLog(lines: Array(session.log.since(mark))).firstAlarm

        let failed = results.enumerated().filter { !$0.element.succeeded }
        try require(failed.isEmpty, expected: "all \(processes) fuzzing processes to exit 0 (seed \(seed))",
                    got: failed.map { "process \($0.offset) (seed \(seed &+ UInt64($0.offset))): \($0.element.summary)" }
                        .joined(separator: "; "))
        let tallies = results.compactMap { result in
            result.output.split(separator: "\n").last.flatMap { FuzzTally(line: String($0)) }
        }
        try require(tallies.count == processes, expected: "a summary line from each process",
                    got: results.map(\.output).joined(separator: " | "))
        let total = tallies.reduce(FuzzTally(), +)
        try require(alarm == nil, expected: "no kernel alarm while fuzzing (seed \(seed))", got: alarm ?? "")
        try require(notPersistent.isEmpty,
                    expected: "no device without IFF_PERSIST left once every file closed (seed \(seed))",
                    got: notPersistent.joined(separator: ", "))
        try require(left.isEmpty && undeleted.isEmpty, expected: "no device of the fuzzer's left after RTM_DELLINK",
                    got: (undeleted + left).joined(separator: ", "))
        try require(total.calls >= processes * callsEach, expected: "at least \(processes * callsEach) calls",
                    got: "\(total.calls)")
        try require(total.attached > 0 && total.written > 0,
                    expected: "some TUNSETIFF calls to attach a device and some frames to be written (seed \(seed))",
                    got: "\(total.attached) attached, \(total.written) written; \(describe(total))")
        return "\(processes) processes, \(grouped(total.calls)) calls (seed \(seed)): \(describe(total)); "
            + "TUNSETIFF attached \(grouped(total.attached)) times, \(grouped(total.written)) frames written, "
            + "\(grouped(total.read)) read, \(total.broughtUp) devices brought up; "
            + "\(persistent.count) persistent devices left, deleted with RTM_DELLINK; no fz device left"
    }

    /// "31,210 ok, 40,112 EINVAL, 12,001 EBADFD, 9,876 EFAULT, 1,234 other".
    static func describe(_ tally: FuzzTally) -> String {
        let errors = tally.errors.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        let shown = errors.prefix(4).map { "\(grouped($0.value)) \($0.key)" }
        let other = errors.dropFirst(4).reduce(0) { $0 + $1.value }
        return (["\(grouped(tally.succeeded)) ok"] + shown + (other > 0 ? ["\(grouped(other)) other"] : []))
            .joined(separator: ", ")
    }
}

/// 100000 as "100,000".
func grouped(_ value: Int) -> String {
    let digits = String(value.magnitude)
    var out = ""
    for (index, digit) in digits.enumerated() {
        if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
        out.append(digit)
    }
    return value < 0 ? "-" + out : out
}
