import Testing
@testable import XtunSource

@Suite("Markdown scanner")
struct MarkdownTests {
    /// The kind of every line, one letter each: t text, o opening fence,
    /// b body, c closing fence.
    func kinds(_ text: String) -> String {
        String(MarkdownDocument(text).lines.map { line -> Character in
            switch line.kind {
            case .text: "t"
            case .openingFence: "o"
            case .body: "b"
            case .closingFence: "c"
            }
        })
    }

    @Test func linesJoinBackToTheText() {
        let text = "a\n\n```c\nint x;\n```\nb\n"
        #expect(MarkdownDocument(text).lines.map(\.text).joined(separator: "\n") == text)
        #expect(kinds(text) == "ttobctt")
    }

    @Test func fenceOpening() throws {
        let fence = try #require(MarkdownFence(opening: "```c"))
        #expect(fence == MarkdownFence(opening: "   ```  c  "))
        #expect(fence.marker == "`")
        #expect(fence.length == 3)
        #expect(fence.info == "c")
        #expect(MarkdownFence(opening: "````")?.length == 4)
        #expect(MarkdownFence(opening: "~~~ text")?.info == "text")
        #expect(MarkdownFence(opening: "~~~ a`b")?.info == "a`b")
        #expect(MarkdownFence(opening: "``` a`b") == nil, "a backtick info string cannot hold a backtick")
        #expect(MarkdownFence(opening: "``") == nil)
        #expect(MarkdownFence(opening: "    ```") == nil, "four spaces make an indented code block")
        #expect(MarkdownFence(opening: "\t```") == nil)
        #expect(MarkdownFence(opening: "text ```") == nil)
    }

    @Test func fenceClosing() throws {
        let fence = try #require(MarkdownFence(opening: "````"))
        #expect(fence.isClosed(by: "````"))
        #expect(fence.isClosed(by: "`````"))
        #expect(fence.isClosed(by: "   ```` \t"))
        #expect(fence.isClosed(by: "````\r"))
        #expect(!fence.isClosed(by: "```"), "a shorter fence does not close")
        #expect(!fence.isClosed(by: "````c"), "a closing fence has no info string")
        #expect(!fence.isClosed(by: "    ````"))
        #expect(!fence.isClosed(by: "~~~~"))
    }

    @Test func fourBacktickFenceQuotesAThreeBacktickFence() throws {
        let document = MarkdownDocument("""
            ````markdown
            <!-- xtun: 02-ops/xtun.c#xmit -->
            ```c
            code
            ```
            ````
            after
            """)
        #expect(document.lines.map(\.kind) == [.openingFence, .body, .body, .body, .body, .closingFence, .text])
        let block = try #require(document.fencedBlock(openingAt: 0))
        #expect(block.fence.info == "markdown")
        #expect(block.closing == 5)
        #expect(block.body == 1..<5)
        #expect(document.bodyLines(of: block) == ["<!-- xtun: 02-ops/xtun.c#xmit -->", "```c", "code", "```"])
        #expect(document.fencedBlocks.count == 1)
        #expect(document.fencedBlock(openingAt: 2) == nil, "a fence inside a block opens nothing")
        #expect(document.fencedBlock(containing: 3) == block)
        #expect(document.fencedBlock(containing: 6) == nil)
    }

    @Test func tildeAndBacktickFencesDoNotCloseEachOther() {
        #expect(kinds("~~~\n```\n~~~\nt") == "obct")
        #expect(kinds("```\n~~~\n```\nt") == "obct")
        #expect(kinds("~~~~\n~~~\n~~~~~") == "obc")
    }

    @Test func unclosedFenceRunsToTheEnd() throws {
        let document = MarkdownDocument("a\n```c\nint x;\n# not a heading\n")
        #expect(document.lines.map(\.kind) == [.text, .openingFence, .body, .body, .body])
        let block = try #require(document.fencedBlock(after: 0))
        #expect(!block.isClosed)
        #expect(block.closing == nil)
        #expect(block.body == 2..<5)
        #expect(block.lines == 1..<5)
        #expect(document.headings == [])
    }

    @Test func blockAfterALine() {
        let document = MarkdownDocument("<!-- x -->\n```\nbody\n```\n<!-- y -->\n\n```\n```")
        #expect(document.fencedBlock(after: 0)?.opening == 1)
        #expect(document.fencedBlock(after: 1) == nil, "the block must open on the very next line")
        #expect(document.fencedBlock(after: 4) == nil, "a blank line in between is not allowed")
        #expect(document.fencedBlock(after: 5)?.opening == 6)
        #expect(document.fencedBlock(after: 7) == nil)
        #expect(document.fencedBlock(after: 99) == nil)
    }

    @Test func headingsOutsideFences() {
        let document = MarkdownDocument("""
            # Title
            ## Pitfall: leak-skb ##
            ###No space is no heading
            #include <linux/module.h>
            ####### seven is too many
               ### Indented three
                # Indented four is code
            ```c
            # inside a fence
            ```
            ###### C#
            #
            """)
        #expect(document.headings.map(\.level) == [1, 2, 3, 6, 1])
        #expect(document.headings.map(\.text) == ["Title", "Pitfall: leak-skb", "Indented three", "C#", ""])
        #expect(document.headings.map(\.index) == [0, 1, 5, 10, 11])
        #expect(document.headingAnchors == ["title", "pitfall-leak-skb", "indented-three", "c", ""])
    }

    @Test func anchorsFollowGitHub() {
        #expect(MarkdownDocument.anchor(forHeading: "Pitfall: null-netdev-ops") == "pitfall-null-netdev-ops")
        #expect(MarkdownDocument.anchor(forHeading: "Up without .ndo_open") == "up-without-ndo_open")
        #expect(MarkdownDocument.anchor(forHeading: "With `--host`") == "with---host")
        #expect(MarkdownDocument.anchor(forHeading: "6.1 and 6.12") == "61-and-612")
    }

    @Test func repeatedHeadingsGetNumberedAnchors() {
        let document = MarkdownDocument("## Symptom\n## Fix\n## Symptom\n### Symptom\n")
        #expect(document.headingAnchors == ["symptom", "fix", "symptom-1", "symptom-2"])
    }

    @Test func chapterHeadingAnchors() throws {
        #expect(Chapter(path: "book/x.md", text: "# A b\n```\n# c\n```\n## D\n").headingAnchors == ["a-b", "d"])
        try withTemporaryDirectory { root in
            try write("# Loading\n", to: root.appendingPathComponent("book/01-init.md"))
            let chapter = try Book(directory: root.appendingPathComponent("book")).chapter(at: "01-init.md")
            #expect(chapter.path == "book/01-init.md")
            #expect(chapter.headingAnchors == ["loading"])
        }
    }
}
