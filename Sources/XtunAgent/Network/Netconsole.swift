import XtunPackets

/// netconsole, the kernel's console over UDP, bound to an interface through
/// configfs: kernel messages leave through that interface's ndo_start_xmit
/// by netpoll, from whatever context printed them. The debug kernel has it
/// built in (Debian's has it as a module, which the guest does not load:
/// another module's allocations would blur the leak check).
struct Netconsole {
    static let configfs = "/sys/kernel/config"
    static let localPort: UInt16 = 6665
    static let remotePort: UInt16 = 6666

    let interface: Interface
    var target: String { "\(Netconsole.configfs)/netconsole/xtun-lab" }

    /// Sends kernel messages from 10.99.0.1 to the peer's port 6666;
    /// returns what `unbind` must undo.
    func bind() throws -> Binding {
        try require(Sys.exists("/sys/module/netconsole"), expected: "netconsole built into the kernel",
                    got: "no /sys/module/netconsole")
        var binding = Binding(mounted: false)
        let mounts = Sys.read("/proc/mounts") ?? ""
        if !mounts.contains(" \(Netconsole.configfs) configfs ") {
            try Command.must(["mount", "-t", "configfs", "configfs", Netconsole.configfs])
            binding.mounted = true
        }
        try Command.must(["mkdir", "-p", target])
        let settings = [
            ("dev_name", interface.name), ("local_ip", "\(LabNetwork.local)"), ("remote_ip", "\(LabNetwork.peer)"),
            ("remote_mac", "\(LabNetwork.peerMAC)"), ("local_port", "\(Netconsole.localPort)"),
            ("remote_port", "\(Netconsole.remotePort)"), ("enabled", "1"),
        ]
        for (name, value) in settings { try Sys.write(value, to: "\(target)/\(name)") }
        return binding
    }

    /// What binding changed besides the target: configfs mounted.
    struct Binding {
        var mounted: Bool
    }

    /// Stops sending and puts back what `bind` changed. Safe to call twice.
    func unbind(_ binding: Binding) {
        if Sys.exists(target) {
            try? Sys.write("0", to: "\(target)/enabled")
            _ = Command.run(["rmdir", target])
        }
        if binding.mounted { _ = Command.run(["umount", Netconsole.configfs]) }
    }

    /// The text of a netconsole datagram in `frame`, if it is one.
    static func message(in frame: [UInt8]) -> String? {
        guard let ethernet = EthernetFrame(bytes: frame), ethernet.etherType == EtherType.ipv4.rawValue,
              let ip = IPv4Packet(bytes: ethernet.payload), ip.proto == IPv4Packet.Proto.udp.rawValue,
              let udp = UDPDatagram(bytes: ip.payload), udp.destinationPort == remotePort else { return nil }
        return String(decoding: udp.payload, as: UTF8.self)
    }
}
