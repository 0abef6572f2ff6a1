/// A markdown document read line by line: which lines open, close or lie
/// inside a fenced code block, and which are headings. It is the one fence
/// scanner behind book snippets (`Chapter`), book transcripts
/// (`BookTranscript`) and heading anchors.
///
/// Fenced code blocks follow CommonMark: a fence is three or more backticks
/// or three or more tildes, indented by at most three spaces. A backtick
/// fence's info string cannot contain a backtick (so ```` ```a` ```` is inline
/// code, not a fence). A block is closed only by a fence of the same
/// character, at least as long, with nothing after it but spaces and tabs:
/// a ```` ```` ```` block can quote a ```` ``` ```` line, and a `~~~` block
/// can quote backtick fences. A block that is never closed runs to the end
/// of the document. The book uses backtick fences only; tildes are
/// supported so that nothing inside any code block is ever read as a
/// directive, a transcript marker or a heading.
///
/// Container blocks (lists, block quotes) are not interpreted: a fence
/// counts only when it is indented by at most three spaces from the start
/// of the line. Headings are ATX headings (`#` … `######`); setext headings
/// (text underlined with `===` or `---`) are not recognised.
///
/// Line indices are 0-based positions in `lines`; the line number people
/// see is the index plus one.
public struct MarkdownDocument: Sendable, Hashable {
    /// What one line of the document is.
    public enum LineKind: Sendable, Hashable {
        /// Outside every fenced code block.
        case text
        /// The fence that opens a block.
        case openingFence
        /// Between a block's fences (or after an opening fence never closed).
        case body
        /// The fence that closes a block.
        case closingFence
    }

    /// One line: its text, without the `\n`, and what it is.
    public struct Line: Sendable, Hashable {
        public let text: String
        public let kind: LineKind

        /// Whether the line belongs to a fenced code block, fences included.
        public var isFenced: Bool { kind != .text }
    }

    /// The document's lines: the text split at every `\n`, so that joining
    /// them with `\n` gives the text back.
    public let lines: [Line]
    /// Every fenced code block, in document order.
    public let fencedBlocks: [FencedBlock]
    /// For each line, the index in `fencedBlocks` of the block it belongs to.
    private let blockOfLine: [Int?]

    /// Scans `text`.
    public init(_ text: String) {
        let texts = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var kinds = Array(repeating: LineKind.text, count: texts.count)
        var blockOfLine: [Int?] = Array(repeating: nil, count: texts.count)
        var blocks: [FencedBlock] = []
        var index = 0
        while index < texts.count {
            guard let fence = MarkdownFence(opening: texts[index]) else {
                index += 1
                continue
            }
            let closing = texts.indices.dropFirst(index + 1).first { fence.isClosed(by: texts[$0]) }
            let block = FencedBlock(fence: fence, opening: index, closing: closing, lineCount: texts.count)
            kinds[index] = .openingFence
            for body in block.body { kinds[body] = .body }
            if let closing { kinds[closing] = .closingFence }
            for line in block.lines { blockOfLine[line] = blocks.count }
            blocks.append(block)
            index = block.lines.upperBound
        }
        self.lines = zip(texts, kinds).map { Line(text: $0, kind: $1) }
        self.fencedBlocks = blocks
        self.blockOfLine = blockOfLine
    }

    // MARK: - Fenced blocks

    /// The fenced block line `index` belongs to (fences included), if any.
    public func fencedBlock(containing index: Int) -> FencedBlock? {
        guard blockOfLine.indices.contains(index), let block = blockOfLine[index] else { return nil }
        return fencedBlocks[block]
    }

    /// The fenced block whose opening fence is line `index`, if any.
    public func fencedBlock(openingAt index: Int) -> FencedBlock? {
        fencedBlock(containing: index).flatMap { $0.opening == index ? $0 : nil }
    }

    /// The fenced block that opens on the line right after line `index`
    /// (the block a directive or marker on line `index` introduces), if any.
    public func fencedBlock(after index: Int) -> FencedBlock? {
        fencedBlock(openingAt: index + 1)
    }

    /// The text of a block's body lines, without its fences.
    public func bodyLines(of block: FencedBlock) -> [String] {
        lines[block.body].map(\.text)
    }

    // MARK: - Headings

    /// Every ATX heading outside fenced code blocks, in document order, with
    /// the anchor GitHub and mdBook give it.
    public var headings: [MarkdownHeading] {
        var seen: [String: Int] = [:]
        return lines.indices.compactMap { index -> MarkdownHeading? in
            guard !lines[index].isFenced, let (level, text) = Self.atxHeading(lines[index].text) else { return nil }
            let base = Self.anchor(forHeading: text)
            let count = seen[base, default: 0]
            seen[base] = count + 1
            return MarkdownHeading(level: level, text: text, index: index,
                                   anchor: count == 0 ? base : "\(base)-\(count)")
        }
    }

    /// The anchors of every heading outside fenced code blocks, in document
    /// order (`#pitfall-leak-skb`, without the `#`).
    public var headingAnchors: [String] { headings.map(\.anchor) }

    /// GitHub's and mdBook's anchor for a heading's text: lowercased, each
    /// space becomes `-`, and everything but letters, digits, `-` and `_` is
    /// dropped. `Up without .ndo_open` → `up-without-ndo_open`.
    ///
    /// A second heading with the same anchor gets `-1`, a third `-2`, …;
    /// `headings` adds those suffixes, this function does not.
    public static func anchor(forHeading heading: String) -> String {
        String(heading.lowercased().compactMap { character -> Character? in
            if character == " " { return "-" }
            return character.isLetter || character.isNumber || character == "-" || character == "_" ? character : nil
        })
    }

    /// The level and text of an ATX heading line: up to three spaces, one to
    /// six `#`, then a space, a tab or the end of the line; the text is
    /// trimmed and loses an optional closing run of `#`.
    static func atxHeading(_ line: String) -> (level: Int, text: String)? {
        let content = MarkdownFence.content(of: line)
        let indent = content.prefix { $0 == " " }.count
        guard indent <= 3 else { return nil }
        let afterIndent = content.dropFirst(indent)
        let level = afterIndent.prefix { $0 == "#" }.count
        guard (1...6).contains(level) else { return nil }
        let rest = afterIndent.dropFirst(level)
        guard rest.isEmpty || rest.first == " " || rest.first == "\t" else { return nil }
        var text = trimmed(rest)
        let withoutClosing = text.reversed().drop { $0 == "#" }
        if withoutClosing.isEmpty || withoutClosing.first == " " || withoutClosing.first == "\t" {
            text = trimmed(text.dropLast(text.count - withoutClosing.count))
        }
        return (level, String(text))
    }

    /// `text` without leading and trailing spaces and tabs.
    static func trimmed(_ text: Substring) -> Substring {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = text.firstIndex(where: { !isBlank($0) }),
              let last = text.lastIndex(where: { !isBlank($0) }) else { return text[text.endIndex...] }
        return text[first...last]
    }
}

/// The fence that opens a fenced code block: three or more backticks or
/// tildes after at most three spaces, then an optional info string.
public struct MarkdownFence: Sendable, Hashable {
    /// The fence character, `` ` `` or `~`.
    public let marker: Character
    /// How many times `marker` is repeated, three or more.
    public let length: Int
    /// The info string, trimmed: `c` in ```` ```c ````, empty when there is none.
    public let info: String

    /// The fence `line` opens, or `nil` when it opens no fenced block.
    public init?(opening line: some StringProtocol) {
        let content = Self.content(of: line)
        let indent = content.prefix { $0 == " " }.count
        guard indent <= 3 else { return nil }
        let afterIndent = content.dropFirst(indent)
        guard let marker = afterIndent.first, marker == "`" || marker == "~" else { return nil }
        let length = afterIndent.prefix { $0 == marker }.count
        let info = afterIndent.dropFirst(length)
        guard length >= 3, marker == "~" || !info.contains("`") else { return nil }
        self.marker = marker
        self.length = length
        self.info = String(MarkdownDocument.trimmed(info))
    }

    /// Whether `line` closes a block this fence opened: at most three
    /// spaces, at least `length` times `marker`, then only spaces and tabs.
    public func isClosed(by line: some StringProtocol) -> Bool {
        let content = Self.content(of: line)
        let indent = content.prefix { $0 == " " }.count
        guard indent <= 3 else { return false }
        let afterIndent = content.dropFirst(indent)
        let run = afterIndent.prefix { $0 == marker }.count
        return run >= length && afterIndent.dropFirst(run).allSatisfy { $0 == " " || $0 == "\t" }
    }

    /// `line` without the `\r` of a CRLF line ending.
    static func content(of line: some StringProtocol) -> Substring {
        let text = Substring(line)
        return text.hasSuffix("\r") ? text.dropLast() : text
    }
}

/// One fenced code block of a `MarkdownDocument`, by line index.
public struct FencedBlock: Sendable, Hashable {
    /// The opening fence.
    public let fence: MarkdownFence
    /// The index of the opening fence line.
    public let opening: Int
    /// The index of the closing fence line, or `nil` when the block is never
    /// closed (it then runs to the end of the document).
    public let closing: Int?
    /// The indices of the lines between the fences.
    public let body: Range<Int>

    init(fence: MarkdownFence, opening: Int, closing: Int?, lineCount: Int) {
        self.fence = fence
        self.opening = opening
        self.closing = closing
        self.body = (opening + 1)..<(closing ?? lineCount)
    }

    /// Whether a closing fence ends the block.
    public var isClosed: Bool { closing != nil }

    /// The indices of every line of the block, fences included.
    public var lines: Range<Int> { opening..<(closing.map { $0 + 1 } ?? body.upperBound) }
}

/// An ATX heading of a `MarkdownDocument`.
public struct MarkdownHeading: Sendable, Hashable {
    /// 1 for `#`, 2 for `##`, … 6.
    public let level: Int
    /// The heading's text as written (inline markup kept), trimmed.
    public let text: String
    /// The index of the heading's line.
    public let index: Int
    /// The anchor GitHub and mdBook link it by, without `#`; unique in the
    /// document (repeated headings get `-1`, `-2`, …).
    public let anchor: String
}
