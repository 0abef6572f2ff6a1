import CLinux
import Glibc
import XtunChecks
import XtunPackets

/// Debian's own TUN/TAP programs, unmodified, run from the host's root
/// (`Debian`), each pointed at /dev/xtun.
struct RealPrograms {
    static let runner = GuestPaths.debianRunner
    /// The runner's /tmp, as the agent sees it.
    static let tmp = "\(GuestPaths.hostRoot)/tmp"

    /// How many times longer every wait is (the session's time scale).
    let scale: Double

    func run(_ argv: [String], timeout: Double = 20) -> CommandResult { Debian.run(argv, timeout: timeout * scale) }

    func start(_ argv: [String]) throws -> Child { try Debian.start(argv) }

    func wait(seconds: Double, every milliseconds: Int = 20, until condition: () -> Bool) -> Bool {
        Sys.wait(seconds: seconds * scale, every: milliseconds, until: condition)
    }

    static func requireRunner() throws {
        try require(Sys.exists(runner) && Sys.exists("\(GuestPaths.hostRoot)/usr/bin/socat"),
                    expected: "Debian's programs from the host's root (\(runner); ./setup installs socat, openvpn, "
                        + "uml-utilities)", got: "missing")
    }

    // MARK: - tunctl

    func tunctl() throws -> String {
        try RealPrograms.requireRunner()
        let name = "ct5"
        let made = run(["tunctl", "-f", DriverNames.characterDevice, "-t", name, "-u", "1000"])
        try require(made.succeeded, expected: "tunctl -t \(name) -u 1000 to exit 0", got: made.summary)
        let interface = Interface(name: name)
        let flags = interface.attribute("tun_flags") ?? "missing"
        let owner = interface.attribute("owner") ?? "missing"
        try require(flags == "0x1802" && owner == "1000",
                    expected: "tun_flags 0x1802 (TAP, NO_PI, PERSIST) and owner 1000", got: "\(flags), owner \(owner)")
        var script = TunScript(node: DriverNames.characterDevice)
        let attach = script.run("as 1000 open a; setiff a tap,no_pi \(name)")
        script.finish()
        try require(attach.hasSuffix("setiff a tap,no_pi \(name): ok \(name)"),
                    expected: "user 1000 to attach to \(name)", got: attach)
        let deleted = run(["tunctl", "-f", DriverNames.characterDevice, "-d", name])
        try require(deleted.succeeded && !interface.exists, expected: "tunctl -d \(name) to delete it",
                    got: "\(deleted.summary); \(interface.exists ? "still there" : "gone")")
        let said = made.output.split(separator: "\n").first.map(String.init) ?? ""
        return "\(said); user 1000 attached; tunctl -d: \(deleted.output.split(separator: "\n").first ?? "")"
    }

    // MARK: - socat

    /// What socat wrote for one datagram sent through its TUN device.
    func socat(packetInformation: Bool) throws -> String {
        let name = "ct6"
        let file = "socat-\(name)"
        unlink("\(RealPrograms.tmp)/\(file)")
        let address = "TUN:10.99.6.1/24,tun-device=\(DriverNames.characterDevice),tun-name=\(name),iff-up"
            + (packetInformation ? "" : ",iff-no-pi")
        let socat = try start(["socat", "-u", address, "CREATE:/tmp/\(file)"])
        defer { _ = socat.kill() }
        let interface = Interface(name: name)
        guard wait(seconds: 10, until: { interface.isUp }) else {
            throw Failure(expected: "socat to make \(name) and bring it up", got: socat.kill().summary)
        }
        Sys.sleep(milliseconds: 200)
        let socket = try Socket.udp()
        try socket.bindToDevice(name)
        if let error = socket.send(TunScript.udpPayload, to: IPv4Address(10, 99, 6, 2), port: LabNetwork.discardPort) {
            throw Failure(expected: "a datagram sent through \(name)", got: "\(error)")
        }
        let want = IPv4Packet.headerLength + UDPDatagram.headerLength + TunScript.udpPayload.count
            + (packetInformation ? 4 : 0)
        var bytes: [UInt8] = []
        _ = wait(seconds: 5) {
            bytes = Sys.readBytes("\(RealPrograms.tmp)/\(file)") ?? []
            return bytes.count >= want
        }
        let stopped = socat.kill()
        try require(bytes.count == want, expected: "socat to write the \(want)-byte packet it read",
                    got: "\(bytes.count) bytes; socat: \(stopped.summary)")
        let flags = IFF_TUN | (packetInformation ? 0 : IFF_NO_PI)
        let seen = TunScript.describeFrame(bytes, flags: flags)
        try require(seen.hasSuffix("payload intact"), expected: "the datagram, intact", got: seen)
        try require(wait(seconds: 5) { !interface.exists }, expected: "\(name) gone with socat", got: "still there")
        return "\(packetInformation ? "with" : "without") tun_pi: \(bytes.count) bytes, \(seen)"
    }

    // MARK: - openvpn

    /// Two network namespaces joined by a veth pair, an openvpn at each end
    /// with a static key and `--dev-node /dev/xtun`; ping and 1 MiB over TCP
    /// through the tunnel.
    struct Tunnel {
        let programs: RealPrograms
        let mode: String
        /// The tunnel's subnet: 10.8.0.x for tun, 10.8.1.x for tap.
        let subnet: Int
        static let key = "/tmp/xtun-ovpn.key"
        static let sides = ["ova", "ovb"]
        static let underlay = ["192.168.77.1", "192.168.77.2"]

        var inner: [String] { ["10.8.\(subnet).1", "10.8.\(subnet).2"] }

        /// A static key as `openvpn --genkey secret` writes it: 2048 random
        /// bits in 16 lines of hex (one openvpn fewer to start).
        static func staticKey() -> String {
            var random = SeededRandom(seed: UInt64(Sys.now() * 1000))
            let lines = (0..<16).map { _ in
                (0..<16).map { _ -> String in
                    let hex = String(UInt8(truncatingIfNeeded: random.next()), radix: 16)
                    return hex.count == 1 ? "0" + hex : hex
                }.joined()
            }
            return (["-----BEGIN OpenVPN Static key V1-----"] + lines + ["-----END OpenVPN Static key V1-----"])
                .joined(separator: "\n") + "\n"
        }

        func arguments(side: Int) -> [String] {
            let ifconfig = mode == "tun" ? [inner[side], inner[1 - side]] : [inner[side], "255.255.255.0"]
            return ["ip", "netns", "exec", Tunnel.sides[side], "openvpn", "--dev-node", DriverNames.characterDevice,
                    "--dev", "ovpn\(subnet)", "--dev-type", mode, "--ifconfig"] + ifconfig + [
                "--secret", Tunnel.key, "--cipher", "AES-256-CBC", "--auth", "SHA256",
                "--proto", "udp", "--local", Tunnel.underlay[side], "--remote", Tunnel.underlay[1 - side],
                "--port", "\(1194 + subnet)", "--disable-dco", "--verb", "3",
                // A ping a second: the ends find each other within one
                // (without it the first packet may wait for the next timer).
                "--ping", "1",
            ]
        }

        /// Both ends started: openvpn processes that `finish` stops.
        func start() throws -> [Child] {
            var ends: [Child] = []
            do {
                for side in 0..<2 { ends.append(try programs.start(arguments(side: side))) }
            } catch {
                for end in ends { _ = end.kill() }
                throw error
            }
            return ends
        }

        func isReady(_ ends: [Child]) -> Bool {
            ends.allSatisfy { $0.outputSoFar().contains("Initialization Sequence Completed") }
        }

        func notReady(_ ends: [Child]) -> Failure {
            let logs = ends.map { String($0.outputSoFar().split(separator: "\n").suffix(6).joined(separator: "\n")) }
            return Failure(expected: "both openvpn ends ready (\(mode))", got: logs.joined(separator: "\n---\n"))
        }

        /// Ping and the transfer through the tunnel the ready ends make.
        func exercise() throws -> String {
            let begun = Sys.now()
            let ping = programs.run(["ip", "netns", "exec", Tunnel.sides[0], "ping", "-c", "3", "-i", "0.2",
                                         "-W", "2", inner[1]], timeout: 15)
            try require(ping.succeeded && ping.output.contains("3 received"),
                        expected: "3 replies from \(inner[1]) through the \(mode) tunnel", got: ping.output)
            let pinged = Sys.now() - begun
            let copied = try transfer()
            try awaitClosedConnections()
            return "\(mode): ping 3/3 in \(String(format1: pinged)) s, \(copied)"
        }

        /// Waits until both ends' TCP connections are closed, but for TIME-WAIT:
        /// killed with its last ACKs still in the tunnel, a connection would go
        /// on retransmitting (its skbs and routes live, its namespace with it)
        /// long after the check.
        func awaitClosedConnections() throws {
            let namespaces = try Tunnel.sides.map {
                try NetworkNamespace.named($0, at: "\(GuestPaths.hostRoot)/run/netns/\($0)")
            }
            var open: [Int] = []
            let closed = programs.wait(seconds: 10, every: 50) {
                open = namespaces.map { (try? $0.liveTCPSockets()) ?? -1 }
                return open.allSatisfy { $0 == 0 }
            }
            try require(closed, expected: "the \(mode) tunnel's TCP connections closed",
                        got: zip(Tunnel.sides, open).map { "\($0): \($1) TCP sockets open" }.joined(separator: ", "))
        }

        /// 1 MiB from side A to a socat listening on side B, compared byte for byte.
        func transfer() throws -> String {
            let took = try programs.transfer(size: 1 << 20, seed: UInt64(subnet + 1), label: mode,
                                             listener: (["ip", "netns", "exec", Tunnel.sides[1]], inner[1]),
                                             sender: (["ip", "netns", "exec", Tunnel.sides[0]], inner[1]),
                                             port: 5000 + subnet)
            return "1 MiB over TCP byte-exact in \(String(format1: took)) s"
        }
    }

    /// `size` random bytes from a socat started with `sender`'s prefix (ip
    /// netns exec …) to one listening on `listener`'s address, compared byte
    /// for byte; the seconds it took.
    func transfer(size: Int, seed: UInt64, label: String, listener: (prefix: [String], address: String),
                  sender: (prefix: [String], address: String), port: Int) throws -> Double {
        var random = SeededRandom(seed: seed)
        let data = (0..<size).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        let (sent, received) = ("tcp-send-\(label)", "tcp-received-\(label)")
        unlink("\(RealPrograms.tmp)/\(received)")
        try Sys.writeBytes(data, to: "\(RealPrograms.tmp)/\(sent)")
        let listening = try start(listener.prefix + ["socat", "-u", "TCP-LISTEN:\(port),bind=\(listener.address),reuseaddr",
                                                     "CREATE:/tmp/\(received)"])
        defer { _ = listening.kill() }
        // The sender retries until the listener listens.
        let started = Sys.now()
        let send = run(sender.prefix + ["socat", "-u", "OPEN:/tmp/\(sent)",
                                        "TCP:\(sender.address):\(port),retry=50,interval=0.1"], timeout: 60)
        try require(send.succeeded, expected: "socat to send \(size) bytes (\(label))", got: send.summary)
        _ = listening.finish(timeout: 10 * scale)
        let took = Sys.now() - started
        let got = Sys.readBytes("\(RealPrograms.tmp)/\(received)") ?? []
        try require(got == data, expected: "\(size) bytes received byte-exact (\(label))",
                    got: "\(got.count) bytes" + (firstDifference(got, data).map { ", first difference at \($0)" } ?? ""))
        return took
    }

    func openvpn() throws -> String {
        try RealPrograms.requireRunner()
        let begun = Sys.now()
        try setUpNamespaces()
        let setUp = Sys.now() - begun
        defer { tearDownNamespaces() }
        try Sys.writeBytes(Array(Tunnel.staticKey().utf8), to: GuestPaths.hostRoot + Tunnel.key)
        // Both tunnels come up at once; the traffic goes through one, then
        // the other: on two emulated CPUs, two transfers at once took five
        // times as long each.
        let tunnels = [Tunnel(programs: self, mode: "tun", subnet: 0), Tunnel(programs: self, mode: "tap", subnet: 1)]
        let started = Sys.now()
        var ends: [[Child]] = []
        defer { for child in ends.joined() { _ = child.kill() } }
        for tunnel in tunnels { ends.append(try tunnel.start()) }
        let ready = wait(seconds: 30, every: 100) { zip(tunnels, ends).allSatisfy { $0.isReady($1) } }
        if !ready, let (tunnel, stuck) = zip(tunnels, ends).first(where: { !$0.isReady($1) }) {
            throw tunnel.notReady(stuck)
        }
        let readyAfter = Sys.now() - started
        let results = try tunnels.map { try $0.exercise() }
        return "namespaces \(String(format1: setUp)) s; both tunnels ready in \(String(format1: readyAfter)) s; "
            + results.joined(separator: "; ")
    }

    /// One shell in the runner for all of it: each program started there
    /// costs a chroot and an exec over 9p.
    func setUpNamespaces() throws {
        tearDownNamespaces()
        let (a, b) = (Tunnel.sides[0], Tunnel.sides[1])
        let batch = RealPrograms.ipBatch
        let script = [
            batch(nil, ["netns add \(a)", "netns add \(b)",
                        "link add va netns \(a) type veth peer name vb netns \(b)"]),
            batch(a, ["addr add \(Tunnel.underlay[0])/24 dev va", "link set va up", "link set lo up"]),
            batch(b, ["addr add \(Tunnel.underlay[1])/24 dev vb", "link set vb up", "link set lo up"]),
        ].joined(separator: "\n")
        let result = run(["sh", "-ec", script])
        try require(result.succeeded, expected: "two namespaces joined by veth:\n\(script)", got: result.summary)
    }

    /// A shell line that runs ip's commands `lines` in one ip, inside
    /// `namespace` if there is one: each Debian ip started costs about
    /// 0.1 s under TCG. (A batch's lines take no global options such as -n:
    /// one batch per namespace.)
    static func ipBatch(_ namespace: String?, _ lines: [String]) -> String {
        "printf '\(lines.joined(separator: "\\n"))\\n' | ip \(namespace.map { "-n \($0) " } ?? "")-batch -"
    }

    func tearDownNamespaces() {
        _ = run(["sh", "-c", Tunnel.sides.map { "ip netns del \($0) 2>/dev/null" }.joined(separator: "; ")])
    }
}

// MARK: - Programs that open /dev/net/tun by name

extension RealPrograms {
    /// `argv` in a mount namespace of its own where /dev/net/tun is /dev/xtun.
    static func overTun(_ argv: [String]) -> [String] {
        ["unshare", "--mount", "sh", "-c", "mount --bind \(DriverNames.characterDevice) \(TunNode.tun) && exec \"$@\"", "sh"]
            + argv
    }

    /// Whether `name` in `namespace` is a device of xtun's (its link kind).
    func isXtun(_ name: String, namespace: String? = nil) -> Bool {
        let shown = run((namespace.map { ["ip", "-n", $0] } ?? ["ip"]) + ["-d", "link", "show", name])
        return shown.succeeded && shown.output.contains("\n    \(DriverNames.module) ")
    }

    /// iproute2's ip tuntap add and del, and what ip tuntap show lists.
    func ipTuntap() throws -> String {
        let name = "ct7"
        let add = run(RealPrograms.overTun(["ip", "tuntap", "add", "dev", name, "mode", "tap"]))
        try require(add.succeeded && isXtun(name), expected: "ip tuntap add dev \(name) mode tap to make an xtun device",
                    got: "\(add.summary); \(Interface(name: name).exists ? "not of kind xtun" : "no \(name)")")
        let shown = run(RealPrograms.overTun(["ip", "tuntap", "show"])).output
        let del = run(RealPrograms.overTun(["ip", "tuntap", "del", "dev", name, "mode", "tap"]))
        try require(del.succeeded && !Interface(name: name).exists, expected: "ip tuntap del to delete \(name)",
                    got: "\(del.summary); \(Interface(name: name).exists ? "still there" : "gone")")
        let listed = shown.contains("\(name):") ? "lists \(name)" : "lists nothing (it shows links of kind tun only)"
        return "ip tuntap add and del: ok, show \(listed)"
    }

    /// slirp4netns: a TAP device in a namespace, answered by libslirp in
    /// userspace: ping its gateway, and TCP to its gateway, which it forwards
    /// to 127.0.0.1 here.
    func slirp4netns() throws -> String {
        let (namespace, name) = ("xsl", "ct8")
        _ = run(["ip", "netns", "del", namespace])
        try require(run(["ip", "netns", "add", namespace]).succeeded, expected: "ip netns add \(namespace)", got: "failed")
        defer { _ = run(["ip", "netns", "del", namespace]) }
        let slirp = try start(RealPrograms.overTun(["slirp4netns", "--configure", "--mtu=1500", "--netns-type=path",
                                                    "/run/netns/\(namespace)", name]))
        defer { _ = slirp.kill() }
        guard wait(seconds: 10, every: 50, until: { slirp.outputSoFar().contains("received tapfd") }) else {
            throw Failure(expected: "slirp4netns to make \(name) in \(namespace)", got: slirp.kill().summary)
        }
        try require(isXtun(name, namespace: namespace), expected: "\(name) to be an xtun device", got: "it is not")
        let inside = ["ip", "netns", "exec", namespace]
        let ping = run(inside + ["ping", "-c", "2", "-i", "0.2", "-W", "2", "10.0.2.2"], timeout: 10)
        try require(ping.output.contains("2 received"), expected: "2 replies from slirp's gateway 10.0.2.2", got: ping.output)
        let took = try transfer(size: 100_000, seed: 8, label: "slirp4netns", listener: ([], "127.0.0.1"),
                                sender: (inside, "10.0.2.2"), port: 5008)
        return "slirp4netns: ping 10.0.2.2 2/2, 100 kB over TCP to the host side byte-exact in \(String(format1: took)) s"
    }

    /// pasta (passt): a TAP device in a namespace that copies the addresses
    /// and routes of the namespace pasta runs in, whose gateway it maps to
    /// that namespace's 127.0.0.1.
    func pasta() throws -> String {
        let (outside, inside, name) = ("xpo", "xpi", "ct9")
        let namespaces = [outside, inside]
        _ = run(["sh", "-c", namespaces.map { "ip netns del \($0) 2>/dev/null" }.joined(separator: "; ")])
        let setUp = [
            RealPrograms.ipBatch(nil, ["netns add \(outside)", "netns add \(inside)"]),
            RealPrograms.ipBatch(outside, [
                "link set lo up", "link add \(name) type veth peer name \(name)p", "link set \(name)p up",
                "addr add 192.168.50.1/24 dev \(name)", "link set \(name) up", "route add default via 192.168.50.254",
            ]),
        ].joined(separator: "\n")
        let made = run(["sh", "-ec", setUp])
        try require(made.succeeded, expected: "two namespaces for pasta:\n\(setUp)", got: made.summary)
        defer { _ = run(["sh", "-c", namespaces.map { "ip netns del \($0)" }.joined(separator: "; ")]) }
        let pasta = try start(["ip", "netns", "exec", outside] + RealPrograms.overTun(
            ["pasta", "--runas", "0", "--config-net", "--foreground", "--netns", inside]))
        defer { _ = pasta.kill() }
        guard wait(seconds: 10, every: 200, until: { isXtun(name, namespace: inside) }) else {
            throw Failure(expected: "pasta to make the xtun device \(name) in \(inside)", got: pasta.kill().summary)
        }
        let took = try transfer(size: 100_000, seed: 9, label: "pasta", listener: (["ip", "netns", "exec", outside], "127.0.0.1"),
                                sender: (["ip", "netns", "exec", inside], "192.168.50.254"), port: 5009)
        return "pasta: 100 kB over TCP to the outer namespace byte-exact in \(String(format1: took)) s"
    }
}

extension String {
    init(format1 value: Double) {
        let tenths = Int((value * 10).rounded())
        self = "\(tenths / 10).\(tenths % 10)"
    }
}
