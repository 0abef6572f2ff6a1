import Foundation
import Testing
import XtunChecks
@testable import XtunLab

/// Every hint the checker prints must land on a heading in the book.
@Suite("Book structure")
struct BookTests {
    /// GitHub's and mdBook's heading anchor: lowercase, spaces to '-', punctuation dropped.
    static func slug(_ heading: String) -> String {
        String(heading.lowercased().compactMap { character -> Character? in
            if character == " " { return "-" }
            return character.isLetter || character.isNumber || character == "-" || character == "_" ? character : nil
        })
    }

    static func anchors(inChapter chapter: String) throws -> Set<String> {
        let text = try String(contentsOf: labPaths.layout.book.appendingPathComponent("\(chapter).md"), encoding: .utf8)
        var inFence = false
        var anchors = Set<String>()
        for line in text.split(separator: "\n") {
            if line.hasPrefix("```") { inFence.toggle() }
            guard !inFence, line.hasPrefix("#") else { continue }
            anchors.insert(Self.slug(String(line.drop { $0 == "#" }.drop { $0 == " " })))
        }
        return anchors
    }

    @Test func slugsFollowGitHub() {
        #expect(Self.slug("Pitfall: null-netdev-ops") == "pitfall-null-netdev-ops")
        #expect(Self.slug("Up without .ndo_open") == "up-without-ndo_open")
    }

    @Test(arguments: Stage.written)
    func everyHintHasItsHeading(_ stage: Stage) throws {
        let anchors = try Self.anchors(inChapter: stage.slug)
        let hinted = Expectation.catalogue.filter { $0.chapter == stage }.map(\.anchor)
            + Pitfall.of(stage).map(\.anchor)
        for anchor in Set(hinted) {
            #expect(anchors.contains(anchor), "book/\(stage.slug).md has no heading for #\(anchor)")
        }
    }

    @Test func summaryListsEveryChapter() throws {
        let summary = try String(contentsOf: labPaths.layout.book.appendingPathComponent("SUMMARY.md"), encoding: .utf8)
        for chapter in ["00-intro"] + Stage.written.map(\.slug) {
            #expect(summary.contains("(\(chapter).md)"), "SUMMARY.md does not link \(chapter).md")
        }
    }
}
