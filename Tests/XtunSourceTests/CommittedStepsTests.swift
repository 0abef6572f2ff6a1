import Foundation
import Testing
@testable import XtunSource

/// The package's own committed `steps/` and `book/` must match `driver/`
/// (what `swift run steps --check` reports).
@Test func committedStepsMatchDriver() throws {
    let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // XtunSourceTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()
    let layout = TutorialLayout(root: root)
    try #require(layout.hasDriverDirectory && !layout.driverFiles().isEmpty, "no driver/ sources in \(root.path)")
    let source = try layout.loadSource()
    let report = try layout.check(source)
    #expect(report.lines == [], "run `swift run steps` and `swift run steps --book`")
}
