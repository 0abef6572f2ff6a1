/// A named, documented broken variant of a stage: the annotated source builds
/// it with `//> NN name +pitfall` / `-pitfall` blocks, and the stage's checks
/// must fail on it.
public struct Pitfall: Sendable, Hashable, CustomStringConvertible {
    public let name: String
    /// The earliest stage whose checks catch it; the variant is built from this stage.
    public let stage: Stage
    /// What goes wrong, in one line.
    public let summary: String
    /// Anchor in `book/<stage>.md`.
    public let anchor: String
    /// Expectations that must fail on this variant (the gate in `swift test`).
    public let caughtBy: [Expectation]

    public var description: String { name }
    public var hint: String { "book/\(stage.slug).md#\(anchor)" }

    public static let all: [Pitfall] = [
        Pitfall(
            name: "null-netdev-ops", stage: Stage.numbered(1)!,
            summary: "netdev_ops left NULL: register_netdev() dereferences it and oopses",
            anchor: "pitfall-null-netdev-ops",
            caughtBy: [.loads, .registered, .kernelLogClean]),
        Pitfall(
            name: "leak-skb", stage: Stage.numbered(2)!,
            summary: "ndo_start_xmit never frees the skb: the sender's buffer fills and sends fail with ENOBUFS",
            anchor: "pitfall-leak-skb",
            caughtBy: [.sustainedTraffic]),
        Pitfall(
            name: "empty-header-ops", stage: Stage.numbered(3)!,
            summary: "header_ops replaced by an empty struct after ether_setup: frames leave without an Ethernet header",
            anchor: "pitfall-empty-header-ops",
            caughtBy: [.readUdpExact]),
        Pitfall(
            name: "noarp", stage: Stage.numbered(4)!,
            summary: "dev->flags = IFF_NOARP copied from snull: arp_rcv() drops every ARP request",
            anchor: "pitfall-noarp",
            caughtBy: [.arpReply]),
    ]

    public static func named(_ name: String) -> Pitfall? {
        all.first { $0.name == name }
    }

    public static func of(_ stage: Stage) -> [Pitfall] {
        all.filter { $0.stage == stage }
    }
}
