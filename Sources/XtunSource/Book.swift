import Foundation
import XtunChecks

/// What a book snippet shows: `SLUG/FILE`, `SLUG/FILE#REGION` or
/// `SLUG+PITFALL/FILE#REGION`, as written in `<!-- xtun: ... -->`. FILE is
/// the file's path in the stage directory and may name a subfolder:
/// `05-test/user/xtun_test.c#main`.
public struct SnippetReference: Sendable, Hashable, CustomStringConvertible {
    /// The stage slug, e.g. `02-ops`.
    public let slug: String
    /// The pitfall variant, if the snippet shows broken code.
    public let pitfall: String?
    /// The file's path in the snapshot, e.g. `xtun.c` or `user/xtun_test.c`.
    public let file: String
    /// The region name, or `nil` for the whole file.
    public let region: String?

    public init(slug: String, pitfall: String? = nil, file: String, region: String? = nil) {
        self.slug = slug
        self.pitfall = pitfall
        self.file = file
        self.region = region
    }

    /// Parses `SLUG[+PITFALL]/FILE[#REGION]`, where FILE is a relative path
    /// (`user/xtun_test.c`) whose components are plain names, neither `.`
    /// nor `..`; an absolute path or an empty component is rejected.
    public init?(_ text: String) {
        guard let slash = text.firstIndex(of: "/") else { return nil }
        let stagePart = text[..<slash].split(separator: "+", omittingEmptySubsequences: false)
        let filePart = text[text.index(after: slash)...].split(separator: "#", omittingEmptySubsequences: false)
        guard stagePart.count <= 2, filePart.count <= 2 else { return nil }
        let slug = String(stagePart[0])
        let file = String(filePart[0])
        let pitfall = stagePart.count == 2 ? String(stagePart[1]) : nil
        let region = filePart.count == 2 ? String(filePart[1]) : nil
        guard Self.isPlainName(slug), RelativePath.isValid(file),
              file.split(separator: "/").allSatisfy(Self.isPlainName) else { return nil }
        if let pitfall, !Marker.isName(pitfall) { return nil }
        if let region, !Marker.isName(region) { return nil }
        self.init(slug: slug, pitfall: pitfall, file: file, region: region)
    }

    /// Parses a directive line, exactly `<!-- xtun: REFERENCE -->`.
    public init?(directive line: some StringProtocol) {
        let prefix = SnippetReference.directivePrefix, suffix = " -->"
        guard line.hasPrefix(prefix), line.hasSuffix(suffix),
              line.count > prefix.count + suffix.count else { return nil }
        self.init(String(line.dropFirst(prefix.count).dropLast(suffix.count)))
    }

    /// `02-ops+leak-skb/xtun.c#xmit`.
    public var description: String {
        slug + (pitfall.map { "+\($0)" } ?? "") + "/" + file + (region.map { "#\($0)" } ?? "")
    }

    /// The directive line for this reference.
    public var directive: String { "\(Self.directivePrefix)\(self) -->" }

    static let directivePrefix = "<!-- xtun: "

    private static func isPlainName(_ text: some StringProtocol) -> Bool {
        !text.isEmpty && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
    }
}

/// A problem with a book snippet, at `chapter:line`.
public struct BookProblem: Sendable, Hashable, CustomStringConvertible {
    /// The chapter as shown to people, e.g. `book/02-ops.md`.
    public let chapter: String
    /// 1-based line in the chapter.
    public let line: Int
    public let message: String

    public init(chapter: String, line: Int, message: String) {
        self.chapter = chapter
        self.line = line
        self.message = message
    }

    /// `book/02-ops.md:40: message`.
    public var description: String { "\(chapter):\(line): \(message)" }
}

/// One markdown chapter and its snippets: each `<!-- xtun: REF -->` line must
/// be followed at once by a fenced code block whose body is the referenced
/// code. Lines inside other fenced blocks are not read as directives (fences
/// as `MarkdownDocument` reads them).
public struct Chapter: Sendable, Hashable {
    /// The chapter as shown in problems, e.g. `book/02-ops.md`.
    public let path: String
    public let text: String

    public init(path: String, text: String) {
        self.path = path
        self.text = text
    }

    /// The chapter's text, scanned for fenced code blocks and headings.
    public var document: MarkdownDocument { MarkdownDocument(text) }

    /// The anchors of the chapter's headings (outside code blocks), in
    /// order, as GitHub and mdBook make them: `## Pitfall: leak-skb` is
    /// linked as `02-ops.md#pitfall-leak-skb`. See
    /// `MarkdownDocument.anchor(forHeading:)`.
    public var headingAnchors: [String] { document.headingAnchors }

    /// Every snippet problem: malformed directive, unknown stage slug or
    /// pitfall, file not in the snapshot, region missing at that stage,
    /// missing or unclosed fence, body that differs (at its first differing line).
    public func verify(against source: AnnotatedSource,
                       stageNumbers: [String: Int] = Book.tutorialStageNumbers) -> [BookProblem] {
        scan(source: source, stageNumbers: stageNumbers).problems.map(\.problem)
    }

    /// The chapter with every resolvable snippet body rewritten from the
    /// source (everything else byte-identical), how many bodies changed, and
    /// the problems that syncing cannot fix.
    public func synced(from source: AnnotatedSource,
                       stageNumbers: [String: Int] = Book.tutorialStageNumbers) -> ChapterSync {
        let found = scan(source: source, stageNumbers: stageNumbers)
        return ChapterSync(text: found.text, updatedSnippets: found.updated,
                           problems: found.problems.filter { !$0.isStale }.map(\.problem))
    }

    // MARK: - Scanning

    private struct Found {
        var text: String
        var updated: Int
        var problems: [Problem]
    }

    /// A problem, and whether syncing fixes it (a differing body).
    private struct Problem {
        let problem: BookProblem
        let isStale: Bool
    }

    private func scan(source: AnnotatedSource, stageNumbers: [String: Int]) -> Found {
        let document = self.document
        let lines = document.lines.map(\.text)
        var output: [String] = []
        var problems: [Problem] = []
        var updated = 0
        var snapshots: [String: Snapshot] = [:]
        func report(_ index: Int, _ message: String, stale: Bool = false) {
            problems.append(Problem(problem: BookProblem(chapter: path, line: index + 1, message: message),
                                    isStale: stale))
        }

        var index = 0
        while index < lines.count {
            let line = lines[index]
            if let block = document.fencedBlock(openingAt: index) {
                // An ordinary code block: copy it through untouched.
                output += lines[block.lines]
                index = block.lines.upperBound
                continue
            }
            output.append(line)
            guard line.drop(while: { $0 == " " || $0 == "\t" }).hasPrefix("<!-- xtun:") else {
                index += 1
                continue
            }
            guard let reference = SnippetReference(directive: line) else {
                report(index, "malformed snippet directive (want `<!-- xtun: SLUG[+PITFALL]/FILE[#REGION] -->`)")
                index += 1
                continue
            }
            let expected = resolve(reference, source: source, stageNumbers: stageNumbers,
                                   snapshots: &snapshots) { report(index, $0) }
            guard let block = document.fencedBlock(after: index) else {
                report(index, "fence missing: `\(reference.directive)` must be followed at once by a ``` code block")
                index += 1
                continue
            }
            let fenceIndex = block.opening
            guard let close = block.closing else {
                report(fenceIndex, "code fence after `\(reference.directive)` is never closed")
                output += lines[fenceIndex...]
                break
            }
            let body = Array(lines[block.body])
            output.append(lines[fenceIndex])
            if let expected {
                let want = LineDifference.lines(expected)
                if let difference = LineDifference.first(expected: Self.joined(want), actual: Self.joined(body)) {
                    let chapterLine = fenceIndex + difference.line  // 0-based index of the differing line
                    report(chapterLine, "snippet \(reference) differs from driver/: expected "
                        + "\(LineDifference.show(difference.expected)), found \(LineDifference.show(difference.actual))",
                        stale: true)
                    updated += 1
                }
                output += want
            } else {
                output += body
            }
            output.append(lines[close])
            index = close + 1
        }
        return Found(text: output.joined(separator: "\n"), updated: updated, problems: problems)
    }

    /// The code `reference` points at, or `nil` after reporting why not.
    private func resolve(_ reference: SnippetReference, source: AnnotatedSource, stageNumbers: [String: Int],
                         snapshots: inout [String: Snapshot], report: (String) -> Void) -> String? {
        guard let stage = stageNumbers[reference.slug] else {
            report("unknown stage slug '\(reference.slug)' in \(reference)")
            return nil
        }
        if let pitfall = reference.pitfall, !source.pitfallNames.contains(pitfall) {
            report("unknown pitfall '\(pitfall)' in \(reference): no driver/ condition names it")
            return nil
        }
        let key = "\(stage)+\(reference.pitfall ?? "")"
        let snapshot = snapshots[key] ?? source.snapshot(stage: stage, pitfall: reference.pitfall)
        snapshots[key] = snapshot
        let variant = reference.slug + (reference.pitfall.map { "+\($0)" } ?? "")
        guard let file = snapshot.files[reference.file] else {
            let files = snapshot.files.keys.sorted().joined(separator: ", ")
            report("file '\(reference.file)' is not in the \(variant) snapshot (it has: \(files.isEmpty ? "no files" : files))")
            return nil
        }
        guard let region = reference.region else { return file }
        guard let text = snapshot.region(file: reference.file, name: region) else {
            let names = snapshot.regionNames(file: reference.file).joined(separator: ", ")
            report("region '\(region)' does not exist in \(variant)/\(reference.file) "
                + "(regions there: \(names.isEmpty ? "none" : names))")
            return nil
        }
        return text
    }

    private static func joined(_ lines: [String]) -> String {
        lines.map { $0 + "\n" }.joined()
    }
}

/// The result of syncing one chapter.
public struct ChapterSync: Sendable, Hashable {
    /// The chapter text with snippet bodies rewritten.
    public let text: String
    /// How many snippet bodies changed.
    public let updatedSnippets: Int
    /// Problems that syncing could not fix.
    public let problems: [BookProblem]
}

/// The book: markdown chapters under a directory, whose snippets are checked
/// against, or rewritten from, the annotated source.
public struct Book: Sendable, Hashable {
    /// The `book/` directory.
    public let directory: URL
    /// Stage slug → stage number, used to resolve snippet references.
    public let stageNumbers: [String: Int]

    /// The tutorial's stages: `01-init` → 1, ... (from `Stage.all`).
    public static let tutorialStageNumbers: [String: Int] =
        Dictionary(uniqueKeysWithValues: Stage.all.map { ($0.slug, $0.number) })

    public init(directory: URL, stageNumbers: [String: Int] = Book.tutorialStageNumbers) {
        self.directory = directory
        self.stageNumbers = stageNumbers
    }

    /// What `sync` did.
    public struct SyncReport: Sendable, Hashable {
        /// Chapters that were rewritten, as `book/02-ops.md`.
        public let updatedChapters: [String]
        /// How many snippet bodies changed.
        public let updatedSnippets: Int
        /// Problems that syncing could not fix.
        public let problems: [BookProblem]
    }

    /// Every `*.md` file under the directory (recursively, hidden ones
    /// skipped), sorted by path; none when the directory does not exist.
    public func chapters() throws -> [(url: URL, chapter: Chapter)] {
        let manager = FileManager.default
        guard manager.fileExists(atPath: directory.path) else { return [] }
        let prefix = directory.standardizedFileURL.lastPathComponent
        let relative = (manager.subpaths(atPath: directory.path) ?? [])
            .filter { path in
                path.hasSuffix(".md") && !path.split(separator: "/").contains { $0.hasPrefix(".") }
            }
            .sorted()
        return try relative.map { path in
            let url = directory.appendingPathComponent(path)
            let text = String(decoding: try Data(contentsOf: url), as: UTF8.self)
            return (url, Chapter(path: "\(prefix)/\(path)", text: text))
        }
    }

    /// The chapter at `relativePath` under the directory, e.g. `02-ops.md`.
    ///
    /// - Throws: the file system's error when it cannot be read.
    public func chapter(at relativePath: String) throws -> Chapter {
        let url = directory.appendingPathComponent(relativePath)
        let prefix = directory.standardizedFileURL.lastPathComponent
        let text = String(decoding: try Data(contentsOf: url), as: UTF8.self)
        return Chapter(path: "\(prefix)/\(relativePath)", text: text)
    }

    /// Every snippet problem in every chapter, in chapter and line order.
    public func verify(against source: AnnotatedSource) throws -> [BookProblem] {
        try chapters().flatMap { $0.chapter.verify(against: source, stageNumbers: stageNumbers) }
    }

    /// Rewrites every resolvable snippet body from the source; chapters
    /// without changes are not touched.
    public func sync(from source: AnnotatedSource) throws -> SyncReport {
        var updatedChapters: [String] = []
        var updatedSnippets = 0
        var problems: [BookProblem] = []
        for (url, chapter) in try chapters() {
            let result = chapter.synced(from: source, stageNumbers: stageNumbers)
            problems += result.problems
            guard result.text != chapter.text else { continue }
            try Data(result.text.utf8).write(to: url, options: .atomic)
            updatedChapters.append(chapter.path)
            updatedSnippets += result.updatedSnippets
        }
        return SyncReport(updatedChapters: updatedChapters, updatedSnippets: updatedSnippets, problems: problems)
    }
}
