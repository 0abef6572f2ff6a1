/// The addresses every check uses: xtun is 10.99.0.1/24, and a made-up peer
/// behind it is 10.99.0.2 with a locally administered MAC address.
public enum LabNetwork {
    public static let local = IPv4Address(10, 99, 0, 1)
    public static let peer = IPv4Address(10, 99, 0, 2)
    public static let prefixLength = 24
    /// The address `--trace` and `--bench` give xtun (and tun's tap), so
    /// that runs print and compare the same bytes.
    public static let fixedLocalMAC = MACAddress([0x02, 0x00, 0x00, 0x99, 0x00, 0x01])
    /// The peer's MAC address (locally administered, unicast).
    public static let peerMAC = MACAddress([0x02, 0x00, 0x00, 0x99, 0x00, 0x02])
    /// Another host on the link: frames for it reach xtun but are not for xtun.
    public static let otherHostMAC = MACAddress([0x02, 0x00, 0x00, 0x99, 0x00, 0x99])
    /// The IPv4 all-hosts group's MAC address (224.0.0.1, RFC 1112).
    public static let allHostsMAC = MACAddress([0x01, 0x00, 0x5e, 0x00, 0x00, 0x01])
    /// The UDP "discard" port the checks send to: nothing listens on the peer.
    public static let discardPort: UInt16 = 9
}

/// Frame sizes the checks count in, from the headers that make them.
public enum FrameSize {
    /// An ARP request or reply on Ethernet: 42 bytes.
    public static let arp = EthernetFrame.headerLength + ARPPacket.length
    /// Ethernet + IPv4 + UDP headers around a UDP payload: 42 bytes.
    public static let udpOverhead = EthernetFrame.headerLength + IPv4Packet.headerLength + UDPDatagram.headerLength
    /// The ICMP payload busybox and iputils ping send by default.
    public static let pingPayload = 56
    /// One default ping on the wire: 98 bytes.
    public static let ping = EthernetFrame.headerLength + IPv4Packet.headerLength + ICMPEcho.headerLength + pingPayload
}
