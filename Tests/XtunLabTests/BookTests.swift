import Foundation
import Testing
import XtunChecks
@testable import XtunLab
import XtunSource

/// Every hint the checker prints must land on a heading in the book.
@Suite("Book structure")
struct BookTests {
    static func anchors(inChapter chapter: String) throws -> Set<String> {
        Set(try Book(directory: labPaths.layout.book).chapter(at: "\(chapter).md").headingAnchors)
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
