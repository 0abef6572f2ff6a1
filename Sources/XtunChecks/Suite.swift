/// The ordered list of expectations a stage must meet. Each stage's suite is
/// built from the sets below; a check of an earlier stage stays in later
/// suites unless the later stage changes what is true.
public struct Suite: Sendable {
    public let stage: Stage
    public let expectations: [Expectation]

    public static func of(_ stage: Stage) -> Suite {
        let list: [Expectation]
        switch stage.number {
        case 1:
            list = loadAndInspect
                + [.upWithoutOpen]
                + unloadAndReload
                + [.kernelLogClean, .transmitWithoutXmitCrashes]
        case 2:
            list = loadAndInspect
                + [.upDownRepeat, .pingSendsArp, .pingSendsIcmp, .sustainedTraffic, .unloadWhileUp]
                + unloadAndReload
                + [.kernelLogClean]
        case 3:
            list = loadAndInspect + [.upDownRepeat]
                + transmitToReader
                + unloadAndReload
                + [.kernelLogClean]
        case 4:
            list = loadAndInspect + [.upDownRepeat]
                + transmitToReader
                + [.pollWritable, .arpReply, .icmpEchoReply, .udpDelivered,
                   .badWritesRejected, .concurrentReadWrite]
                + unloadAndReload
                + [.kernelLogClean]
        default:
            list = []
        }
        return Suite(stage: stage, expectations: list)
    }

    /// Expectations this stage adds to the previous stage's suite.
    public var added: [Expectation] {
        guard let previous = stage.previous else { return expectations }
        let before = Set(Suite.of(previous).expectations)
        return expectations.filter { !before.contains($0) }
    }

    public func expectation(_ id: String) -> Expectation? {
        expectations.first { $0.id == id }
    }

    // MARK: Reusable sets

    static let loadAndInspect: [Expectation] = [
        .buildsClean, .loads, .registered, .typeEther, .macValid, .mtu1500, .downAfterLoad,
    ]

    static let unloadAndReload: [Expectation] = [.unloads, .reloads]

    static let transmitToReader: [Expectation] = [
        .charDevice, .readUdpExact, .readFrameBoundaries, .nonblockEagain,
        .blockedReaderWakes, .pollReadiness, .shortReadTruncates, .secondOpenBusy,
        .closedDrops, .overflowBounded, .closeFreesQueue, .unloadBusyWhileOpen,
        .blockedReaderExits,
    ]
}

extension Expectation {
    /// Every expectation any stage uses.
    public static var catalogue: [Expectation] {
        var seen = Set<Expectation>()
        return Stage.all.flatMap { Suite.of($0).expectations }.filter { seen.insert($0).inserted }
    }

    public static func named(_ id: String) -> Expectation? {
        catalogue.first { $0.id == id }
    }
}
