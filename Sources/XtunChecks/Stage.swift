/// One stage of the tutorial: a complete module snapshot in `steps/<slug>/`
/// and a chapter in `book/<slug>.md`.
public struct Stage: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// 1 through 6.
    public let number: Int
    /// Directory and chapter name, e.g. `01-init`.
    public let slug: String
    public let title: String

    public static let stage01 = Stage(number: 1, slug: "01-init", title: "Allocate and register the net_device")
    public static let stage02 = Stage(number: 2, slug: "02-ops", title: "Open, stop and transmit")
    public static let stage03 = Stage(number: 3, slug: "03-tx", title: "Transmit into /dev/xtun")
    public static let stage04 = Stage(number: 4, slug: "04-rx", title: "Receive from /dev/xtun")
    public static let stage05 = Stage(number: 5, slug: "05-test", title: "Test and tune")
    public static let stage06 = Stage(number: 6, slug: "06-ctl", title: "Control interfaces")

    public static let all: [Stage] = [stage01, stage02, stage03, stage04, stage05, stage06]

    /// Whether the annotated source and the checker cover this stage yet:
    /// whether it has a suite (`Stages/`).
    public var isWritten: Bool { Suite.written.contains { $0.stage == self } }

    public static var written: [Stage] { all.filter(\.isWritten) }

    public static func numbered(_ number: Int) -> Stage? {
        all.first { $0.number == number }
    }

    /// The stage before this one, if any.
    public var previous: Stage? { Stage.numbered(number - 1) }

    /// Two-digit stage number, as used in source markers: `01`.
    public var tag: String { number < 10 ? "0\(number)" : "\(number)" }

    public var description: String { slug }

    public static func < (lhs: Stage, rhs: Stage) -> Bool { lhs.number < rhs.number }
}
