import Foundation

/// A transcript in the book: a `<!-- transcript: check-step … -->` line
/// followed at once by a fenced block holding what that command printed.
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

    static let marker = "<!-- transcript: "

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
            guard !line.isFenced, let command = command(in: line.text) else { return nil }
            let body = document.fencedBlock(after: index).map(document.bodyLines(of:)) ?? []
            return BookTranscript(chapter: chapter, line: index + 1, command: command,
                                  text: body.joined(separator: "\n"))
        }
    }

    /// The command of a marker line, exactly `<!-- transcript: COMMAND -->`
    /// (empty for `<!-- transcript: -->`, so that the marker is reported).
    static func command(in line: String) -> String? {
        guard line.hasPrefix(marker), line.hasSuffix(" -->") else { return nil }
        return String(line.dropFirst(marker.count).dropLast(" -->".count))
    }

    /// The output lines of the transcript, without the `$ swift run …` line.
    public var output: String {
        text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("$ ") }.joined(separator: "\n")
    }
}
