import XtunPackets

/// Interface configuration the checks need, done the way a user would.
struct NetworkSetup {
    let interface: Interface

    func up() throws { try Command.must(["ip", "link", "set", interface.name, "up"]) }
    func down() throws { try Command.must(["ip", "link", "set", interface.name, "down"]) }

    /// Up, with 10.99.0.1/24.
    func configure() throws {
        if interface.isUp { try down() }
        _ = Command.run(["ip", "addr", "flush", "dev", interface.name])
        try Command.must(["ip", "addr", "add", "\(LabNetwork.local)/\(LabNetwork.prefixLength)",
                          "dev", interface.name])
        try up()
    }

    /// A new MAC address (and MTU), set while the interface is down.
    func setAddress(_ mac: MACAddress, mtu: Int = 1500) throws {
        if interface.isUp { try down() }
        try Command.must(["ip", "link", "set", interface.name, "address", "\(mac)", "mtu", "\(mtu)"])
    }

    /// A permanent ARP entry for the peer, so IPv4 frames leave without ARP.
    func addPeerNeighbour() throws {
        try Command.must(["arp", "-i", interface.name, "-s", "\(LabNetwork.peer)", "\(LabNetwork.peerMAC)"])
    }

    func setIPv6(enabled: Bool) throws {
        try Sys.write(enabled ? "0" : "1", to: "/proc/sys/net/ipv6/conf/\(interface.name)/disable_ipv6")
    }

    func setQueueLength(_ length: Int) throws {
        try Sys.write("\(length)", to: "\(interface.directory)/tx_queue_len")
    }
}
