/// Who decides an expectation, and so where its check is registered: the
/// agent's checks (`Sources/XtunAgent/Checks`) and the host's judges
/// (`Sources/XtunLab/Judges.swift`). Every expectation of a written stage
/// has exactly one of each that its evaluator names; a test proves it.
public enum Evaluator: String, Sendable, Codable {
    /// The host decides from the module build, before anything boots.
    case build
    /// The agent runs it in the booted kernel and reports the outcome.
    case guest
    /// The agent provokes it and the host decides from the guest's console:
    /// for what the kernel does not survive. Needs the VM.
    case console

    /// Whether the agent has a check for it.
    public var hasGuestCheck: Bool { self != .build }
    /// Whether the host has a judge for it.
    public var hasHostJudge: Bool { self != .guest }
}

/// Where an expectation can be checked, when not on every kernel and machine.
public enum Requirement: Sendable, Equatable {
    /// In the lab's VM, not with `--host`.
    case virtualMachine(because: String)
    /// On the debug kernel (`--kernel debug`), which has what it needs.
    case debugKernel(because: String)

    public var reason: String {
        switch self {
        case .virtualMachine(let reason), .debugKernel(let reason): reason
        }
    }

    /// Whether a run at `place`, on the debug kernel or not, meets it.
    public func isMet(at place: Place, debugKernel: Bool) -> Bool {
        switch self {
        case .virtualMachine: place == .virtualMachine
        case .debugKernel: place == .virtualMachine && debugKernel
        }
    }
}

/// One named thing a stage must do, checked in a real kernel. The same
/// vocabulary names checks run by the host and by the guest agent. Each
/// stage declares its own in `Stages/`.
public struct Expectation: Sendable, Hashable, Identifiable, CustomStringConvertible {
    /// Stable kebab-case name: `mtu-1500`.
    public let id: String
    /// What is verified, as printed after PASS or FAIL.
    public let summary: String
    /// The chapter that explains it.
    public let chapter: Stage
    /// Section anchor in that chapter.
    public let anchor: String
    public let evaluator: Evaluator
    /// Where it can be checked, when not everywhere.
    public let requirement: Requirement?
    /// For a check a stage adds that tests no new code of the driver (a
    /// program of the stage's on the earlier driver): the earlier stage it
    /// already passes on. A test proves that it does, and shows it failing
    /// on a broken copy instead.
    public let heldSince: Stage?

    public init(_ id: String, _ summary: String, chapter: Stage, anchor: String,
                evaluator: Evaluator = .guest, requirement: Requirement? = nil, heldSince: Stage? = nil) {
        self.id = id
        self.summary = summary
        self.chapter = chapter
        self.anchor = anchor
        self.evaluator = evaluator
        self.heldSince = heldSince
        self.requirement = requirement
            ?? (evaluator == .console ? .virtualMachine(because: "it needs the VM's console: the kernel does not survive it")
                : nil)
    }

    /// `book/01-init.md#anchor`
    public var hint: String { "book/\(chapter.slug).md#\(anchor)" }

    public var description: String { id }

    public static func == (lhs: Expectation, rhs: Expectation) -> Bool { lhs.id == rhs.id }
    public func hash(into hasher: inout Hasher) { hasher.combine(id) }
}

extension Expectation {
    /// Every expectation any written stage uses, each once, in stage order.
    public static var catalogue: [Expectation] {
        var seen = Set<Expectation>()
        return Suite.written.flatMap(\.expectations).filter { seen.insert($0).inserted }
    }

    public static func named(_ id: String) -> Expectation? {
        catalogue.first { $0.id == id }
    }
}
