/// A named, documented broken variant of a stage: the annotated source builds
/// it with `//> NN name +pitfall` / `-pitfall` blocks, and the stage's checks
/// must fail on it. Each stage declares its own in `Stages/`.
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
    /// Whether only the debug kernel (lockdep, KASAN, kmemleak) sees it.
    public let needsDebugKernel: Bool

    public init(name: String, stage: Stage, summary: String, anchor: String, caughtBy: [Expectation],
                needsDebugKernel: Bool = false) {
        self.name = name
        self.stage = stage
        self.summary = summary
        self.anchor = anchor
        self.caughtBy = caughtBy
        self.needsDebugKernel = needsDebugKernel
    }

    public var description: String { name }
    public var hint: String { "book/\(stage.slug).md#\(anchor)" }

    public static let all: [Pitfall] = [
        .nullNetdevOps, .noFreeNetdev, .leakSkb, .emptyHeaderOps, .keepZerocopy, .irqUnsafeLock, .unpurgedQueue, .noarp,
        .noWake, .noQueueLength,
    ]

    public static func named(_ name: String) -> Pitfall? {
        all.first { $0.name == name }
    }

    public static func of(_ stage: Stage) -> [Pitfall] {
        all.filter { $0.stage == stage }
    }
}
