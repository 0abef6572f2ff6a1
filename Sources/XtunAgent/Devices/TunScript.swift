import CLinux
import Glibc
import XtunChecks
import XtunPackets

/// Runs the steps of a conformance scenario against one node, `/dev/net/tun`
/// or `/dev/xtun`, and says what each step observed, in words that do not
/// depend on the driver (no random MAC, no ifindex). A step is a line such
/// as `setiff a tap,no_pi ct0`; the same lines run against both drivers and
/// their observations are compared line by line (`Conformance`).
///
/// Steps (F names an open file, N an interface):
/// `open F`, `close F`, `setiff F FLAGS [N]`, `getiff F`, `features F`,
/// `persist F 0|1`, `owner F UID`, `group F GID`, `carrier F 0|1`,
/// `sndbuf F BYTES`, `getsndbuf F`, `hwaddr F`, `sethwaddr F MAC`,
/// `read F [BYTES]`, `wait-read F` (blocking), `write F ping|arp|junk|tiny`, `poll F`, `fdinfo F`,
/// `link N`, `sysfs N ATTRIBUTE`, `exists N`, `up N`, `send N`, `delete N`,
/// `wait-file PATH`, `unshare-net`, and `as UID[:GID] STEP; STEP…`, which
/// runs the steps on a thread of their own with that user's credentials.
struct TunScript {
    let node: String
    private var files: [String: Int32] = [:]
    /// What each file attached to: its TUNSETIFF flags and the name it got.
    private var attached: [String: (flags: Int32, name: String)] = [:]

    init(node: String) { self.node = node }

    /// Closes every file the steps left open.
    mutating func finish() {
        for fd in files.values { close(fd) }
        files = [:]
        attached = [:]
    }

    /// Runs one step; returns its observation.
    mutating func run(_ step: String) -> String {
        let words = step.split(separator: " ").map(String.init)
        guard let verb = words.first else { return "empty step" }
        if verb == "as" { return runAsUser(step) }
        let arguments = Array(words.dropFirst())
        return "\(step): " + perform(verb, arguments)
    }

    private mutating func perform(_ verb: String, _ arguments: [String]) -> String {
        let first = arguments.first ?? ""
        switch verb {
        case "open":
            let fd = Glibc.open(node, O_RDWR | O_CLOEXEC)
            guard fd >= 0 else { return Errno.current.name }
            files[first] = fd
            return "ok"
        case "close":
            guard let fd = files.removeValue(forKey: first) else { return "no such file" }
            attached[first] = nil
            close(fd)
            // The last close's work (unregister) ends before close() returns.
            return "ok"
        case "setiff":
            let flags = TunFlags.parse(arguments.count > 1 ? arguments[1] : "")
            let name = arguments.count > 2 ? arguments[2] : ""
            return withFile(first) { fd in
                switch TunNode.setInterface(fd: fd, name: name, flags: flags) {
                case .success(let got):
                    attached[first] = (flags, got)
                    return "ok \(got)"
                case .failure(let error): return error.name
                }
            }
        case "getiff":
            return withFile(first) { fd in
                switch TunNode.getInterface(fd: fd) {
                case .success(let (name, flags)): "ok \(name) \(TunFlags.describe(flags))"
                case .failure(let error): error.name
                }
            }
        case "features":
            return withFile(first) { fd in
                switch TunNode.features(fd: fd) {
                case .success(let features): TunFlags.describe(Int32(bitPattern: features))
                case .failure(let error): error.name
                }
            }
        case "persist", "owner", "group":
            let request = ["persist": xtun_TUNSETPERSIST, "owner": xtun_TUNSETOWNER, "group": xtun_TUNSETGROUP][verb]!
            let value = UInt(UInt32(truncatingIfNeeded: Int64(arguments.count > 1 ? arguments[1] : "0") ?? 0))
            return withFile(first) { fd in describe(TunNode.set(fd: fd, request, value: value)) }
        case "carrier", "sndbuf":
            let request = verb == "carrier" ? xtun_TUNSETCARRIER : xtun_TUNSETSNDBUF
            let value = Int32(arguments.count > 1 ? arguments[1] : "0") ?? 0
            return withFile(first) { fd in describe(TunNode.set(fd: fd, request, pointee: value)) }
        case "getsndbuf":
            return withFile(first) { fd in
                switch TunNode.get(fd: fd, xtun_TUNGETSNDBUF) {
                case .success(let value): "\(value)"
                case .failure(let error): error.name
                }
            }
        case "hwaddr":
            return withFile(first) { fd in hardwareAddress(fd: fd, file: first) }
        case "sethwaddr":
            guard let mac = MACAddress(arguments.count > 1 ? arguments[1] : "") else { return "bad MAC" }
            return withFile(first) { fd in describe(TunNode.setHardwareAddress(fd: fd, mac.bytes)) }
        case "read":
            let capacity = arguments.count > 1 ? Int(arguments[1]) ?? 65536 : 65536
            return withFile(first) { fd in read(fd: fd, file: first, capacity: capacity) }
        case "wait-read":
            return withFile(first) { fd in
                var buffer = [UInt8](repeating: 0, count: 65536)
                let count = Glibc.read(fd, &buffer, buffer.count)
                return count >= 0 ? "\(count) bytes" : Errno.current.name
            }
        case "write":
            return withFile(first) { fd in write(fd: fd, file: first, kind: arguments.count > 1 ? arguments[1] : "") }
        case "poll":
            return withFile(first) { fd in
                var descriptor = pollfd(fd: fd, events: Int16(POLLIN | POLLOUT), revents: 0)
                _ = Glibc.poll(&descriptor, 1, 0)
                return Self.describePoll(descriptor.revents)
            }
        case "fdinfo":
            return withFile(first) { fd in
                let info = Sys.read("/proc/self/fdinfo/\(fd)") ?? ""
                return info.split(separator: "\n").first { $0.hasPrefix("iff:") }
                    .map { String($0.map { $0 == "\t" ? " " : $0 }) } ?? "no iff line"
            }
        case "link": return Self.link(first)
        case "sysfs":
            return Sys.read("/sys/class/net/\(first)/\(arguments.count > 1 ? arguments[1] : "")") ?? "missing"
        case "exists": return if_nametoindex(first) > 0 ? "exists" : "absent"
        case "up": return Self.up(first)
        case "send": return Self.send(first)
        case "delete": return Command.run(["ip", "link", "del", first]).summary
        case "wait-file":
            return Sys.wait(seconds: 20, every: 10) { Sys.exists(first) } ? "ok" : "timed out"
        case "unshare-net": return xtun_unshare_network() == 0 ? "ok" : Errno.current.name
        default: return "unknown step"
        }
    }

    private func withFile(_ name: String, _ body: (Int32) -> String) -> String {
        guard let fd = files[name] else { return "no such file" }
        return body(fd)
    }

    private func describe(_ result: Result<Void, Errno>) -> String {
        switch result {
        case .success: "ok"
        case .failure(let error): error.name
        }
    }

    static func describePoll(_ events: Int16) -> String {
        let names: [(Int32, String)] = [(Int32(POLLIN), "in"), (Int32(POLLOUT), "out"), (Int32(POLLERR), "err"),
                                        (Int32(POLLHUP), "hup")]
        let set = names.filter { Int32(events) & $0.0 != 0 }.map(\.1)
        return set.isEmpty ? "none" : set.joined(separator: ",")
    }

    // MARK: - Addresses and links

    private func hardwareAddress(fd: Int32, file: String) -> String {
        switch TunNode.hardwareAddress(fd: fd) {
        case .failure(let error): return error.name
        case .success(let (family, bytes)):
            var text = "family \(family)"
            if family == UInt16(ARPHRD_ETHER), let name = attached[file]?.name {
                let sysfs = Sys.read("/sys/class/net/\(name)/address")
                text += MACAddress(bytes).description == sysfs ? ", the address sysfs shows" : ", \(MACAddress(bytes))"
            }
            return text
        }
    }

    /// What the device is, without what differs between any two devices.
    static func link(_ name: String) -> String {
        let directory = "/sys/class/net/\(name)"
        guard Sys.exists(directory) else { return "absent" }
        let read = { (attribute: String) in Sys.read("\(directory)/\(attribute)") ?? "?" }
        let flags = UInt32(read("flags").dropFirst(2), radix: 16) ?? 0
        let flagNames: [(Int, String)] = [
            (IFF_UP, "UP"), (IFF_BROADCAST, "BROADCAST"), (IFF_POINTOPOINT, "POINTOPOINT"), (IFF_NOARP, "NOARP"),
            (IFF_MULTICAST, "MULTICAST"),
        ]
        let shown = flagNames.filter { flags & UInt32($0.0) != 0 }.map(\.1).joined(separator: ",")
        let carrier = flags & UInt32(IFF_UP) != 0 ? ", carrier \(read("carrier"))" : ""
        // Not the operstate: linkwatch sets it up to a second after the carrier changes.
        return "type \(read("type")), flags \(shown), mtu \(read("mtu")), qlen \(read("tx_queue_len")), "
            + "addr_len \(read("addr_len"))\(carrier)"
    }

    /// Up, with 10.99.0.1 and 10.99.0.2 as its peer: a permanent neighbour
    /// entry on an Ethernet device, the point-to-point peer on a TUN device.
    static func up(_ name: String) -> String {
        let ethernet = Sys.read("/sys/class/net/\(name)/type") == "\(ARPHRD_ETHER)"
        let address = ethernet ? ["\(LabNetwork.local)/\(LabNetwork.prefixLength)"]
            : ["\(LabNetwork.local)", "peer", "\(LabNetwork.peer)"]
        var steps = [["ip", "addr", "add"] + address + ["dev", name], ["ip", "link", "set", name, "up"]]
        if ethernet { steps.append(["arp", "-i", name, "-s", "\(LabNetwork.peer)", "\(LabNetwork.peerMAC)"]) }
        for argv in steps {
            let result = Command.run(argv)
            if !result.succeeded { return "\(argv.joined(separator: " ")): \(result.summary)" }
        }
        return "ok"
    }

    static let udpPayload = Array("xtun conformance".utf8)

    /// One UDP datagram from 10.99.0.1 to 10.99.0.2, out through `name`.
    static func send(_ name: String) -> String {
        do {
            let socket = try Socket.udp()
            try socket.bindToDevice(name)
            if let error = socket.send(udpPayload, to: LabNetwork.peer, port: LabNetwork.discardPort) {
                return error.name
            }
            return "ok"
        } catch {
            return "\(error)"
        }
    }

    // MARK: - Frames

    /// What a read returned: its length and what it carries.
    private func read(fd: Int32, file: String, capacity: Int) -> String {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        _ = Glibc.poll(&descriptor, 1, 500)
        var buffer = [UInt8](repeating: 0, count: max(capacity, 1))
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        let count = Glibc.read(fd, &buffer, capacity)
        let error = Errno.current
        _ = fcntl(fd, F_SETFL, flags)
        guard count >= 0 else { return error.name }
        let bytes = Array(buffer[0..<count])
        guard let mode = attached[file]?.flags else { return "\(count) bytes" }
        return "\(count) bytes: " + Self.describeFrame(bytes, flags: mode)
    }

    /// `pi flags 0x0000 proto 0x0800, IPv4 UDP 10.99.0.1 > 10.99.0.2 "xtun conformance"`.
    static func describeFrame(_ bytes: [UInt8], flags: Int32) -> String {
        var parts: [String] = []
        var rest = bytes
        if flags & IFF_NO_PI == 0 {
            guard rest.count >= 4 else { return "short of a tun_pi" }
            // struct tun_pi: flags in host order (TUN_PKT_STRIP is 0x0001), proto big-endian.
            parts.append("pi flags \(hex16(rest[1], rest[0])) proto \(hex16(rest[2], rest[3]))")
            rest = Array(rest.dropFirst(4))
        }
        if flags & IFF_TAP != 0 && flags & IFF_TUN == 0 {
            guard let frame = EthernetFrame(bytes: rest) else { parts.append("\(rest.count) bytes, no Ethernet header"); return parts.joined(separator: ", ") }
            parts.append("Ethernet type \(String(format4: frame.etherType))")
            if frame.etherType == EtherType.arp.rawValue, let arp = ARPPacket(bytes: frame.payload) {
                parts.append("ARP \(arp.operation == 1 ? "request" : "reply") \(arp.senderIP) > \(arp.targetIP)")
                return parts.joined(separator: ", ")
            }
            rest = frame.payload
        }
        parts.append(describeIP(rest))
        return parts.joined(separator: ", ")
    }

    static func describeIP(_ bytes: [UInt8]) -> String {
        guard let ip = IPv4Packet(bytes: bytes) else { return "\(bytes.count) bytes, not IPv4" }
        let route = "\(ip.source) > \(ip.destination)"
        if ip.proto == IPv4Packet.Proto.udp.rawValue, let udp = UDPDatagram(bytes: ip.payload) {
            let intact = udp.payload == udpPayload ? "payload intact" : "payload of \(udp.payload.count) bytes"
            return "IPv4 UDP \(route) port \(udp.destinationPort), \(intact)"
        }
        if ip.proto == IPv4Packet.Proto.icmp.rawValue, let echo = ICMPEcho(bytes: ip.payload) {
            return "IPv4 ICMP type \(echo.type) \(route) id \(echo.identifier) seq \(echo.sequence)"
        }
        return "IPv4 proto \(ip.proto) \(route)"
    }

    private static func hex16(_ high: UInt8, _ low: UInt8) -> String {
        String(format4: UInt16(high) << 8 | UInt16(low))
    }

    /// Writes a frame the file's framing wants: with a tun_pi unless
    /// IFF_NO_PI, an Ethernet frame to the device's address on a TAP device.
    private func write(fd: Int32, file: String, kind: String) -> String {
        guard let (flags, name) = attached[file] else { return "not attached" }
        let tap = flags & IFF_TUN == 0
        let mac = MACAddress(Sys.read("/sys/class/net/\(name)/address") ?? "") ?? .zero
        let frames = Frames(xtunMAC: mac)
        var body: [UInt8]
        switch kind {
        case "ping":
            let echo = frames.echoRequestFromPeer(identifier: 0x7874, sequence: 1, payload: Self.udpPayload)
            body = tap ? echo : Array(echo.dropFirst(EthernetFrame.headerLength))
        case "arp": body = frames.arpRequestFromPeer()
        case "junk": body = [UInt8](repeating: 0, count: 28)
        case "tiny": body = [0x45, 0]
        default: return "unknown frame \(kind)"
        }
        if flags & IFF_NO_PI == 0 && kind != "tiny" {
            body = [0, 0, 0x08, 0x00] + body
        }
        let count = body.withUnsafeBufferPointer { Glibc.write(fd, $0.baseAddress, $0.count) }
        return count >= 0 ? "\(count)" : Errno.current.name
    }

    // MARK: - Another user

    /// `as UID[:GID] STEP; STEP…`: the steps on a thread of their own with
    /// that user's credentials, and their own files, closed at the end as a
    /// child process's would be at its exit. (Credentials belong to threads
    /// in the kernel; a thread costs nothing to start, where a child process
    /// of this program cost tens of milliseconds under TCG.)
    private func runAsUser(_ step: String) -> String {
        var rest = step.dropFirst("as ".count)
        let identity = rest.prefix { $0 != " " }
        rest = rest.dropFirst(identity.count)
        let ids = identity.split(separator: ":").compactMap { Int($0) }
        guard let uid = ids.first else { return "\(step): bad user" }
        let gid = ids.count > 1 ? ids[1] : uid
        let steps = rest.split(separator: ";").map { $0.trimmingCharacters(in: " ") }.filter { !$0.isEmpty }
        let node = self.node
        let worker = Worker { () -> [String]? in
            guard xtun_thread_become(UInt32(uid), UInt32(gid)) == 0 else { return nil }
            var runner = TunScript(node: node)
            defer { runner.finish() }
            return steps.map { runner.run($0) }
        }
        guard let done = worker.join(timeout: 30) else { return "as \(identity): timed out" }
        guard let lines = done else { return "as \(identity): cannot become \(uid):\(gid)" }
        return lines.flatMap { $0.split(separator: "\n") }.map { "as \(identity) \($0)" }.joined(separator: "\n")
    }

    static var agentPath: String { readLink("/proc/self/exe") ?? CommandLine.arguments[0] }

    /// The child's side: drops to `uid`/`gid` and runs the steps, one line each.
    static func runChild(_ script: AgentTunScript) -> Int32 {
        guard xtun_drop_groups() == 0, setgid(gid_t(script.gid)) == 0, setuid(uid_t(script.uid)) == 0 else {
            print("cannot become \(script.uid):\(script.gid): \(Errno.current.name)")
            return 1
        }
        var runner = TunScript(node: script.node)
        for step in script.steps {
            print(runner.run(step))
            fflush(nil)
        }
        runner.finish()
        return 0
    }
}

private extension String {
    init(format4 value: UInt16) {
        let digits = String(value, radix: 16)
        self = "0x" + String(repeating: "0", count: Swift.max(0, 4 - digits.count)) + digits
    }

    func trimmingCharacters(in set: Character) -> String {
        String(drop { $0 == set }.reversed().drop { $0 == set }.reversed())
    }
}

private extension Substring {
    func trimmingCharacters(in set: Character) -> String { String(self).trimmingCharacters(in: set) }
}

/// TUNSETIFF flags as words: `tap,no_pi`.
enum TunFlags {
    static let names: [(Int32, String)] = [
        (IFF_TUN, "tun"), (IFF_TAP, "tap"), (IFF_NAPI, "napi"), (IFF_NAPI_FRAGS, "napi_frags"),
        (IFF_NO_CARRIER, "no_carrier"), (IFF_MULTI_QUEUE, "multi_queue"), (IFF_ATTACH_QUEUE, "attach_queue"),
        (IFF_DETACH_QUEUE, "detach_queue"), (IFF_PERSIST, "persist"), (IFF_NO_PI, "no_pi"),
        (IFF_ONE_QUEUE, "one_queue"), (IFF_VNET_HDR, "vnet_hdr"), (IFF_TUN_EXCL, "excl"),
    ]

    static func parse(_ text: String) -> Int32 {
        text.split(separator: ",").reduce(0) { flags, word in
            flags | (names.first { $0.1 == word }?.0 ?? (word.hasPrefix("0x") ? Int32(word.dropFirst(2), radix: 16) ?? 0 : 0))
        }
    }

    static func describe(_ flags: Int32) -> String {
        var left = flags
        var words: [String] = []
        for (bit, name) in names where flags & bit != 0 && left & bit != 0 {
            words.append(name)
            left &= ~bit
        }
        if left != 0 { words.append("0x" + String(UInt32(bitPattern: left), radix: 16)) }
        return words.isEmpty ? "none" : words.joined(separator: ",")
    }
}
