import Foundation

/// A transcript in the book: a `<!-- transcript: check-step … -->` line
/// followed at once by a fenced block holding what that command printed.
/// `<!-- transcript excerpt: check-step … -->` marks some of those lines,
/// in their order, with `…` lines where lines are left out.
///
/// Markers inside fenced code blocks are not read (fences as
/// `MarkdownDocument` reads them). A marker with no fenced block right
/// after it is still a transcript, with empty text, so that a test
/// comparing it with a real run reports it. A block that is never closed
/// runs to the end of the chapter.
public struct BookTranscript: Sendable, Equatable {
    /// The chapter's file name, e.g. `02-ops.md`.
    public let chapter: String
    /// The 1-based line of the marker.
    public let line: Int
    /// The command as written, e.g. `check-step 2 --pitfall leak-skb`.
    public let command: String
    /// The body of the fenced block, without its fences.
    public let text: String
    /// Whether it shows some of the lines only (`transcript excerpt:`).
    public var isExcerpt = false

    public init(chapter: String, line: Int, command: String, text: String, isExcerpt: Bool = false) {
        self.chapter = chapter
        self.line = line
        self.command = command
        self.text = text
        self.isExcerpt = isExcerpt
    }

    static let marker = "<!-- transcript: "
    static let excerptMarker = "<!-- transcript excerpt: "
    /// The line that stands for lines left out of an excerpt.
    public static let omission = "…"

    /// Every transcript in the markdown files directly in `book`, in file
    /// name and line order.
    public static func all(in book: URL) throws -> [BookTranscript] {
        let names = try FileManager.default.contentsOfDirectory(atPath: book.path)
            .filter { $0.hasSuffix(".md") }
            .sorted()
        return try names.flatMap { name in
            try parse(String(contentsOf: book.appendingPathComponent(name), encoding: .utf8), chapter: name)
        }
    }

    /// Every transcript in one chapter's markdown; `chapter` names it in the results.
    public static func parse(_ markdown: String, chapter: String) -> [BookTranscript] {
        let document = MarkdownDocument(markdown)
        return document.lines.indices.compactMap { index in
            let line = document.lines[index]
            guard !line.isFenced, let (command, isExcerpt) = command(in: line.text) else { return nil }
            let body = document.fencedBlock(after: index).map(document.bodyLines(of:)) ?? []
            return BookTranscript(chapter: chapter, line: index + 1, command: command,
                                  text: body.joined(separator: "\n"), isExcerpt: isExcerpt)
        }
    }

    /// The command of a marker line, exactly `<!-- transcript: COMMAND -->`
    /// (empty for `<!-- transcript: -->`, so that the marker is reported).
    static func command(in line: String) -> (String, isExcerpt: Bool)? {
        for (prefix, isExcerpt) in [(marker, false), (excerptMarker, true)]
        where line.hasPrefix(prefix) && line.hasSuffix(" -->") {
            return (String(line.dropFirst(prefix.count).dropLast(" -->".count)), isExcerpt)
        }
        return nil
    }

    /// Whether `lines`, a whole run's output, holds the excerpt's lines in
    /// order (after `normalize`, applied to both).
    public func excerptMatches(_ run: String, normalize: (String) -> String) -> Bool {
        let wanted = normalize(output).split(separator: "\n").filter { $0 != BookTranscript.omission }
        var remaining = normalize(run).split(separator: "\n")[...]
        for line in wanted {
            guard let found = remaining.firstIndex(of: line) else { return false }
            remaining = remaining[remaining.index(after: found)...]
        }
        return !wanted.isEmpty
    }

    /// The output lines of the transcript, without the `$ swift run …` line.
    public var output: String {
        text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("$ ") }.joined(separator: "\n")
    }
}
