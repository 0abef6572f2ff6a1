import XtunChecks

/// The comment leader that introduces markers in a file: `//` in C sources
/// and headers (`*.c`, `*.h`) and bpftrace scripts (`*.bt`), `#` in every
/// other file (Kbuild, Makefile, ...).
public enum CommentLeader: String, Sendable, Hashable {
    case slashes = "//"
    case hash = "#"

    /// The leader used by a file with this name; for a path such as
    /// `user/Makefile` only the last component counts.
    public init(fileName: String) {
        let name = RelativePath.lastComponent(fileName)
        self = [".c", ".h", ".bt"].contains { name.hasSuffix($0) } ? .slashes : .hash
    }
}

/// The stages a block is present in: `NN` (from stage NN on) or `NN-MM`
/// (stages NN through MM inclusive; the block is replaced at MM+1).
public struct StageRange: Sendable, Hashable, CustomStringConvertible {
    /// The first stage the block is present in.
    public let first: Int
    /// The last stage the block is present in, or `nil` when it stays to the end.
    public let last: Int?

    /// A range from `first` on, or from `first` through `last`.
    public init(from first: Int, through last: Int? = nil) {
        self.first = first
        self.last = last
    }

    /// Whether the block is present in `stage`.
    public func contains(_ stage: Int) -> Bool {
        stage >= first && (last.map { stage <= $0 } ?? true)
    }

    /// The marker spelling: `02` or `02-03`.
    public var description: String {
        last.map { "\(twoDigits(first))-\(twoDigits($0))" } ?? twoDigits(first)
    }

    /// The stage numbers the tutorial has (`01` through `06`).
    public static let tutorialStages: ClosedRange<Int> = {
        let numbers = Stage.all.map(\.number)
        return (numbers.min() ?? 1)...(numbers.max() ?? 1)
    }()
}

/// The optional pitfall condition of a block: `+name` (only in that pitfall
/// variant) or `-name` (everywhere except that pitfall variant).
public enum PitfallCondition: Sendable, Hashable, CustomStringConvertible {
    /// `+name`: present only when building the pitfall variant `name`.
    case only(String)
    /// `-name`: absent when building the pitfall variant `name`.
    case except(String)

    /// The pitfall this condition names.
    public var pitfall: String {
        switch self {
        case .only(let name), .except(let name): name
        }
    }

    /// Whether the condition holds when building `pitfall` (`nil`: the clean stage).
    public func holds(for pitfall: String?) -> Bool {
        switch self {
        case .only(let name): pitfall == name
        case .except(let name): pitfall != name
        }
    }

    /// The marker spelling: `+name` or `-name`.
    public var description: String {
        switch self {
        case .only(let name): "+\(name)"
        case .except(let name): "-\(name)"
        }
    }
}

/// What an opening marker says about its block.
public struct BlockHeader: Sendable, Hashable, CustomStringConvertible {
    public let stages: StageRange
    /// The region name, `[a-z][a-z0-9-]*`.
    public let name: String
    public let condition: PitfallCondition?

    public init(stages: StageRange, name: String, condition: PitfallCondition? = nil) {
        self.stages = stages
        self.name = name
        self.condition = condition
    }

    /// Whether lines directly inside this block are emitted for (stage, pitfall).
    public func isActive(stage: Int, pitfall: String?) -> Bool {
        stages.contains(stage) && (condition?.holds(for: pitfall) ?? true)
    }

    /// The marker text after `> `: `02-03 name +pitfall`.
    public var description: String {
        [stages.description, name, condition?.description].compactMap { $0 }.joined(separator: " ")
    }
}

/// A marker line: `//> STAGES NAME [COND]` opens a block, `//< NAME` closes it
/// (`#>` / `#<` in files that are not C).
public enum Marker: Sendable, Hashable {
    case open(BlockHeader)
    case close(name: String)

    /// How one source line reads as a marker.
    public enum Reading: Sendable, Hashable {
        /// An ordinary line (including ordinary comments such as `# foo`).
        case text
        /// A well-formed marker.
        case marker(Marker)
        /// The line starts like a marker but does not parse; the reason says why.
        case malformed(String)
    }

    /// Reads one line of a file whose markers use `leader`.
    ///
    /// Any line whose first non-blank characters are `//>`, `//<` (C files) or
    /// `#>`, `#<` (other files) is a marker attempt; it must then be the
    /// leader, `>` or `<`, a space and the marker fields, or it is malformed.
    /// Stage numbers outside `validStages` are reported as malformed too.
    public static func read(
        _ line: some StringProtocol, leader: CommentLeader,
        validStages: ClosedRange<Int> = StageRange.tutorialStages
    ) -> Reading {
        let trimmed = String(line).drop { $0 == " " || $0 == "\t" }
        guard trimmed.hasPrefix(leader.rawValue) else { return .text }
        let afterLeader = trimmed.dropFirst(leader.rawValue.count)
        guard let kind = afterLeader.first, kind == ">" || kind == "<" else { return .text }
        let spelled = "\(leader.rawValue)\(kind)"
        guard afterLeader.dropFirst().first == " " else {
            return .malformed("marker '\(spelled)' must be followed by a space")
        }
        let fields = afterLeader.dropFirst(2).split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            .map(String.init)
        if kind == "<" {
            guard fields.count == 1 else {
                return .malformed("close marker must be '\(spelled) NAME'")
            }
            guard isName(fields[0]) else {
                return .malformed("bad region name '\(fields[0])' (want [a-z][a-z0-9-]*)")
            }
            return .marker(.close(name: fields[0]))
        }
        guard fields.count == 2 || fields.count == 3 else {
            return .malformed("open marker must be '\(spelled) STAGES NAME [+pitfall|-pitfall]'")
        }
        let stages: StageRange
        switch parseStages(fields[0], valid: validStages) {
        case .success(let range): stages = range
        case .failure(let problem): return .malformed(problem.reason)
        }
        guard isName(fields[1]) else {
            return .malformed("bad region name '\(fields[1])' (want [a-z][a-z0-9-]*)")
        }
        var condition: PitfallCondition?
        if fields.count == 3 {
            let cond = fields[2]
            let name = String(cond.dropFirst())
            guard let sign = cond.first, sign == "+" || sign == "-", isName(name) else {
                return .malformed("bad condition '\(cond)' (want +pitfall-name or -pitfall-name)")
            }
            condition = sign == "+" ? .only(name) : .except(name)
        }
        return .marker(.open(BlockHeader(stages: stages, name: fields[1], condition: condition)))
    }

    /// Whether `text` is a region or pitfall name: `[a-z][a-z0-9-]*`.
    public static func isName(_ text: some StringProtocol) -> Bool {
        guard let first = text.first, first.isASCII, first.isLowercase else { return false }
        return text.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }
    }

    private struct StageProblem: Error { let reason: String }

    private static func parseStages(_ text: String, valid: ClosedRange<Int>) -> Result<StageRange, StageProblem> {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count <= 2 else {
            return .failure(StageProblem(reason: "bad stages '\(text)' (want NN or NN-MM)"))
        }
        var numbers: [Int] = []
        for part in parts {
            guard part.count == 2, part.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(part) else {
                return .failure(StageProblem(reason: "bad stages '\(text)' (want two-digit NN or NN-MM)"))
            }
            guard valid.contains(number) else {
                let bounds = "\(twoDigits(valid.lowerBound))..\(twoDigits(valid.upperBound))"
                return .failure(StageProblem(reason: "stage \(part) out of range \(bounds)"))
            }
            numbers.append(number)
        }
        if numbers.count == 2 {
            guard numbers[1] >= numbers[0] else {
                return .failure(StageProblem(reason: "bad stages '\(text)': last stage is before first"))
            }
            return .success(StageRange(from: numbers[0], through: numbers[1]))
        }
        return .success(StageRange(from: numbers[0]))
    }
}

/// `7` → `"07"`.
func twoDigits(_ number: Int) -> String {
    number < 10 && number >= 0 ? "0\(number)" : "\(number)"
}
