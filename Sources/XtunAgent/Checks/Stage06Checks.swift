import CLinux
import Glibc
import XtunChecks
import XtunPackets

/// Stage 06 (`XtunChecks/Stages/Stage06Ctl.swift`): tun's control interface.
enum Stage06Checks {
    static let all: [GuestCheck] = [
        GuestCheck(.controlLoad, needsModule: false) { session in
            if session.module.isLoaded { _ = session.module.unload() }
            let before = Set(Sys.list("/sys/class/net") ?? [])
            let result = session.module.insmod()
            try require(result.succeeded, expected: "insmod to exit 0", got: result.summary)
            var status = stat()
            try require(stat(DriverNames.characterDevice, &status) == 0,
                        expected: "\(DriverNames.characterDevice) to exist", got: "\(Errno.current)")
            let mode = status.st_mode & 0o777
            try require(mode == 0o666, expected: "\(DriverNames.characterDevice) mode 0666 (crw-rw-rw-)",
                        got: "0" + String(mode, radix: 8))
            let after = Set(Sys.list("/sys/class/net") ?? [])
            try require(after == before, expected: "no new interface after insmod",
                        got: "new: \(after.subtracting(before).sorted().joined(separator: ", "))")
            // The kind is registered: ip link add reaches its validate(), which says no.
            let add = Command.run(["ip", "link", "add", "ct9", "type", DriverNames.module])
            try require(!add.succeeded && !Sys.exists("/sys/class/net/ct9"),
                        expected: "ip link add … type xtun to be refused", got: add.summary)
            return "/dev/xtun crw-rw-rw-, no interface; ip link add type xtun: \(add.summary)"
        },
        GuestCheck(.persistentTap) { session in
            let flags = session.interface.attribute("tun_flags") ?? "missing"
            let wanted = "0x" + String(IFF_TAP | IFF_NO_PI | IFF_PERSIST, radix: 16)
            try require(flags == wanted, expected: "tun_flags \(wanted) (IFF_TAP | IFF_NO_PI | IFF_PERSIST)",
                        got: flags)
            do {
                let device = try session.openDevice()
                device.close()
            }
            try require(session.interface.exists, expected: "xtun to stay after its file closes", got: "gone")
            return "tun_flags \(flags); a new file attached and closed, xtun stays"
        },
        GuestCheck(.carrierFollowsFile) { session in
            try session.configureWithPeer()
            let carrier = { session.interface.attribute("carrier") ?? "?" }
            var device: FrameDevice? = try session.openDevice(nonblocking: true)
            try require(Sys.wait(seconds: 2) { carrier() == "1" }, expected: "carrier 1 while a file is attached",
                        got: "carrier \(carrier())")
            device?.close()
            device = nil
            try require(Sys.wait(seconds: 2) { carrier() == "0" }, expected: "carrier 0 once the file closes",
                        got: "carrier \(carrier())")
            // Linkwatch (within 1 s) sets the operstate, then swaps in the
            // noop qdisc, which waits for a grace period (dev_deactivate()).
            let operstate = { session.interface.attribute("operstate") ?? "?" }
            try require(Sys.wait(seconds: 2 * session.timeScale) { operstate() != "up" },
                        expected: "operstate no longer up once linkwatch saw the carrier go", got: operstate())
            Sys.sleep(milliseconds: 300)
            let socket = try Socket.udp()
            for _ in 0..<5 {
                _ = socket.send(TunScript.udpPayload, to: LabNetwork.peer, port: LabNetwork.discardPort)
            }
            let next = try session.openDevice(nonblocking: true)
            Sys.sleep(milliseconds: 300)
            let read = next.drain()
            try require(read.isEmpty, expected: "nothing sent while no file was attached to be read after",
                        got: "\(read.count) frames, the first \(hexDump(read.first ?? []))")
            return "carrier 1 attached, 0 detached; 5 datagrams sent meanwhile, 0 read by the next file"
        },
        GuestCheck(.tunConformance, timeout: 180) { session in
            try require(Sys.exists(TunNode.tun), expected: "tun.ko loaded: \(TunNode.tun)", got: "missing")
            let verdict = Conformance.run()
            try require(verdict.problems.isEmpty,
                        expected: "every scenario as in the table (\(Conformance.table.count) scenarios)",
                        got: verdict.problems.joined(separator: "\n"))
            return "\(Conformance.table.count) scenarios: \(verdict.identical) identical to tun.ko, "
                + "\(verdict.documented) documented differences"
        },
        GuestCheck(.tunctlPersistent) { try RealPrograms(scale: $0.timeScale).tunctl() },
        GuestCheck(.socatTun) { session in
            let programs = RealPrograms(scale: session.timeScale)
            return try [false, true].map { try programs.socat(packetInformation: $0) }.joined(separator: "; ")
        },
        GuestCheck(.openvpnTunnel, timeout: 180) { try RealPrograms(scale: $0.timeScale).openvpn() },
        GuestCheck(.tunByName, timeout: 120) { session in
            try RealPrograms.requireRunner()
            let programs = RealPrograms(scale: session.timeScale)
            // slirp4netns forwards to 127.0.0.1 here.
            try Command.must(["ip", "link", "set", "lo", "up"])
            return try [programs.ipTuntap(), programs.slirp4netns(), programs.pasta()].joined(separator: "; ")
        },
        GuestCheck(.vpnForwarder, timeout: 120) { session in
            try require(Sys.exists(TunNode.tun), expected: "tun.ko loaded: \(TunNode.tun)", got: "missing")
            return try [DriverNames.characterDevice, TunNode.tun].map { node in
                let forwarder = try Forwarder(node: node)
                let seconds = try forwarder.transfer(size: 1 << 20, seed: 4, scale: session.timeScale)
                let copied = forwarder.stop()
                let label = node == TunNode.tun ? "tun" : DriverNames.module
                return "\(label): 1 MiB byte-exact in \(String(format1: seconds)) s, "
                    + "forwarded \(copied[0]) packets A→B and \(copied[1]) B→A"
            }.joined(separator: "; ")
        },
        GuestCheck(.fuzz, timeout: 120) { try FuzzCheck.run($0) },
        GuestCheck(.races, timeout: 120) { try RaceTest.check($0) },
        GuestCheck(.unloadRemovesDevices, needsModule: false, timeout: 90) { session in
            try session.ensureLoaded()
            if let problem = TunNode.createPersistent(node: DriverNames.characterDevice, name: "ct0",
                                                      flags: IFF_TUN | IFF_NO_PI) {
                throw Failure(expected: "a persistent TUN device ct0", got: problem)
            }
            // A child in a namespace of its own makes a persistent TAP there and
            // stays, so its namespace lives, until the module is gone.
            let go = "/tmp/xtun-unload-\(getpid())"
            let steps = ["unshare-net", "open a", "setiff a tap,no_pi ct1", "persist a 1", "close a",
                         "exists ct1", "wait-file \(go)", "exists ct1"]
            let command = AgentCommand.tunScript(AgentTunScript(node: DriverNames.characterDevice, uid: 0, gid: 0,
                                                                steps: steps))
            let child = try Command.mustStart([TunScript.agentPath] + command.arguments)
            let ready = Sys.wait(seconds: 10) { child.outputSoFar().contains("exists ct1: exists") }
            guard ready else {
                throw Failure(expected: "the child's persistent ct1 in its namespace", got: child.kill().output)
            }
            let unload = session.module.unload()
            close(open(go, O_CREAT | O_WRONLY | O_CLOEXEC, 0o644))
            defer { unlink(go) }
            let output = child.finish(timeout: 10).output
            try require(unload.succeeded, expected: "rmmod to exit 0", got: unload.summary)
            try require(!Sys.exists("/sys/class/net/ct0"), expected: "ct0 gone", got: "still there")
            try require(output.hasSuffix("exists ct1: absent\n") || output.hasSuffix("exists ct1: absent"),
                        expected: "ct1 gone from the child's namespace", got: output)
            return "rmmod removed ct0 (TUN) here and ct1 (TAP) in another namespace"
        },
    ]
}
