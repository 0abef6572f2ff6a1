import Testing
@testable import XtunSource

@Suite("Book transcripts")
struct BookTranscriptTests {
    @Test func parsesBookTranscripts() {
        let markdown = """
            Text.

            <!-- transcript: check-step 2 --pitfall leak-skb -->
            ```text
            $ swift run check-step 2 --pitfall leak-skb
            [02-ops] FAIL  something
            ```

            <!-- transcript: check-step 1 --kernel 6.12 -->
            ```
            [01-init] PASS  x
            ```
            """
        let found = BookTranscript.parse(markdown, chapter: "02-ops.md")
        #expect(found.map(\.command) == ["check-step 2 --pitfall leak-skb", "check-step 1 --kernel 6.12"])
        #expect(found[0].output == "[02-ops] FAIL  something")
        #expect(found[0].text == "$ swift run check-step 2 --pitfall leak-skb\n[02-ops] FAIL  something")
        #expect(found[0].line == 3)
        #expect(found[1].chapter == "02-ops.md")
        #expect(found[1].line == 9)
    }

    @Test func markersInsideCodeBlocksAreIgnored() {
        let markdown = """
            Write a transcript like this:
            ````markdown
            <!-- transcript: check-step 9 -->
            ```text
            ```
            ````
            ~~~
            <!-- transcript: check-step 8 -->
            ~~~
            <!-- transcript: check-step 1 -->
            ```
            [01-init] PASS  x
            ```
            """
        let found = BookTranscript.parse(markdown, chapter: "00-intro.md")
        #expect(found.map(\.command) == ["check-step 1"])
        #expect(found.map(\.line) == [10])
    }

    @Test func aLongerFenceKeepsInnerFences() throws {
        let markdown = "<!-- transcript: check-step 1 -->\n````\na\n```text\nb\n```\n````\n"
        let found = try #require(BookTranscript.parse(markdown, chapter: "x.md").first)
        #expect(found.text == "a\n```text\nb\n```")
    }

    @Test func missingOrUnclosedFence() {
        let markdown = "<!-- transcript: check-step 1 -->\n\n<!-- transcript: check-step 2 -->\n```\nrest\nof it"
        let found = BookTranscript.parse(markdown, chapter: "x.md")
        #expect(found == [
            BookTranscript(chapter: "x.md", line: 1, command: "check-step 1", text: ""),
            BookTranscript(chapter: "x.md", line: 3, command: "check-step 2", text: "rest\nof it"),
        ])
    }

    @Test func allReadsEveryChapter() throws {
        try withTemporaryDirectory { root in
            try write("<!-- transcript: check-step 2 -->\n```\ntwo\n```\n", to: root.appendingPathComponent("02-ops.md"))
            try write("<!-- transcript: check-step 1 -->\n```\none\n```\n", to: root.appendingPathComponent("01-init.md"))
            try write("<!-- transcript: check-step 3 -->\n", to: root.appendingPathComponent("notes.txt"))
            let found = try BookTranscript.all(in: root)
            #expect(found.map(\.chapter) == ["01-init.md", "02-ops.md"])
            #expect(found.map(\.output) == ["one", "two"])
        }
    }

    @Test func anExcerptMatchesItsLinesInOrder() throws {
        let markdown = "<!-- transcript excerpt: check-step 5 -->\n```text\n$ swift run check-step 5\nb\n…\nd\n```\n"
        let excerpt = try #require(BookTranscript.parse(markdown, chapter: "05-test.md").first)
        #expect(excerpt.isExcerpt && excerpt.command == "check-step 5")
        let same = { (text: String) in text }
        #expect(excerpt.excerptMatches("a\nb\nc\nd\ne", normalize: same))
        #expect(!excerpt.excerptMatches("a\nd\nb", normalize: same))
        #expect(!excerpt.excerptMatches("b\nc", normalize: same))
    }
}
