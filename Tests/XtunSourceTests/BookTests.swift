import Foundation
import Testing
@testable import XtunSource

@Suite("Book snippets")
struct BookTests {
    let source: AnnotatedSource

    init() throws {
        source = try parse([
            "xtun.c": """
                #include <linux/module.h>
                //> 02 xmit
                static netdev_tx_t xtun_xmit(struct sk_buff *skb, struct net_device *dev)
                {
                \t//> 02 free -leak-skb
                \tdev_kfree_skb(skb);
                \t//< free
                \treturn NETDEV_TX_OK;
                }
                //< xmit
                //> 03 rx
                static void xtun_rx(void) {}
                //< rx
                """,
            "Kbuild": "#> 01 obj\nobj-m += xtun.o\n#< obj\n",
        ])
    }

    func chapter(_ text: String) -> Chapter { Chapter(path: "book/02-ops.md", text: text) }

    @Test func syncedChapterVerifiesClean() {
        let text = """
            # Ops

            <!-- xtun: 02-ops/xtun.c#xmit -->
            ```c
            static netdev_tx_t xtun_xmit(struct sk_buff *skb, struct net_device *dev)
            {
            \tdev_kfree_skb(skb);
            \treturn NETDEV_TX_OK;
            }
            ```

            <!-- xtun: 02-ops+leak-skb/xtun.c#xmit -->
            ```c
            static netdev_tx_t xtun_xmit(struct sk_buff *skb, struct net_device *dev)
            {
            \treturn NETDEV_TX_OK;
            }
            ```

            <!-- xtun: 01-init/Kbuild -->
            ```make
            obj-m += xtun.o
            ```

            """
        #expect(chapter(text).verify(against: source) == [])
        let synced = chapter(text).synced(from: source)
        #expect(synced.text == text)
        #expect(synced.updatedSnippets == 0)
    }

    @Test func fenceMissing() {
        let problems = chapter("intro\n<!-- xtun: 02-ops/xtun.c#free -->\n\n```c\n```\n").verify(against: source)
        #expect(problems.map(\.description) == [
            "book/02-ops.md:2: fence missing: `<!-- xtun: 02-ops/xtun.c#free -->` must be followed at once by a ``` code block",
        ])
    }

    @Test func unclosedFence() {
        let problems = chapter("<!-- xtun: 02-ops/xtun.c#free -->\n```c\n\tdev_kfree_skb(skb);\n").verify(against: source)
        #expect(problems.map(\.description) == [
            "book/02-ops.md:2: code fence after `<!-- xtun: 02-ops/xtun.c#free -->` is never closed",
        ])
    }

    @Test func bodyDiffersAndSyncFixesIt() {
        let stale = """
            Intro stays.

            <!-- xtun: 02-ops/xtun.c#xmit -->
            ```c
            static netdev_tx_t xtun_xmit(struct sk_buff *skb, struct net_device *dev)
            {
            \tkfree_skb(skb);
            \treturn NETDEV_TX_OK;
            }
            ```
            Between stays.
            <!-- xtun: 01-init/Kbuild -->
            ````
            ````
            Outro stays.
            """
        let problems = chapter(stale).verify(against: source)
        #expect(problems.map(\.description) == [
            "book/02-ops.md:7: snippet 02-ops/xtun.c#xmit differs from driver/: "
                + "expected `\tdev_kfree_skb(skb);`, found `\tkfree_skb(skb);`",
            "book/02-ops.md:14: snippet 01-init/Kbuild differs from driver/: "
                + "expected `obj-m += xtun.o`, found end of text",
        ])
        let synced = chapter(stale).synced(from: source)
        #expect(synced.problems == [])
        #expect(synced.updatedSnippets == 2)
        #expect(synced.text == """
            Intro stays.

            <!-- xtun: 02-ops/xtun.c#xmit -->
            ```c
            static netdev_tx_t xtun_xmit(struct sk_buff *skb, struct net_device *dev)
            {
            \tdev_kfree_skb(skb);
            \treturn NETDEV_TX_OK;
            }
            ```
            Between stays.
            <!-- xtun: 01-init/Kbuild -->
            ````
            obj-m += xtun.o
            ````
            Outro stays.
            """)
        #expect(chapter(synced.text).verify(against: source) == [])
    }

    @Test func unresolvableReferences() {
        let text = """
            <!-- xtun: 09-nope/xtun.c -->
            ```
            ```
            <!-- xtun: 02-ops/missing.c -->
            ```
            ```
            <!-- xtun: 02-ops/xtun.c#rx -->
            ```
            ```
            <!-- xtun: 02-ops+typo/xtun.c#xmit -->
            ```
            ```
            <!-- xtun: 02-ops/xtun.c#Bad Region -->
            <!-- xtun:02-ops/xtun.c -->
            """
        let problems = chapter(text).verify(against: source).map(\.description)
        #expect(problems == [
            "book/02-ops.md:1: unknown stage slug '09-nope' in 09-nope/xtun.c",
            "book/02-ops.md:4: file 'missing.c' is not in the 02-ops snapshot (it has: Kbuild, xtun.c)",
            "book/02-ops.md:7: region 'rx' does not exist in 02-ops/xtun.c (regions there: free, xmit)",
            "book/02-ops.md:10: unknown pitfall 'typo' in 02-ops+typo/xtun.c#xmit: no driver/ condition names it",
            "book/02-ops.md:13: malformed snippet directive (want `<!-- xtun: SLUG[+PITFALL]/FILE[#REGION] -->`)",
            "book/02-ops.md:14: malformed snippet directive (want `<!-- xtun: SLUG[+PITFALL]/FILE[#REGION] -->`)",
        ])
        // Sync leaves unresolvable snippets alone and still reports them.
        let synced = chapter(text).synced(from: source)
        #expect(synced.text == text)
        #expect(synced.problems.count == 6)
    }

    @Test func directivesInsideOtherCodeBlocksAreIgnored() {
        let text = """
            Quote a region like this:
            ```markdown
            <!-- xtun: 02-ops/xtun.c#nonexistent -->
            ```
            """
        #expect(chapter(text).verify(against: source) == [])
    }

    @Test func directivesInsideLongerOrTildeFencesAreIgnored() {
        let text = """
            A chapter can show a snippet with its fence:
            ````markdown
            <!-- xtun: 02-ops/xtun.c#nonexistent -->
            ```c
            ```
            <!-- xtun: 02-ops/xtun.c#also-nonexistent -->
            ````
            ~~~
            <!-- xtun: 09-nope/xtun.c -->
            ```
            ~~~
            """
        #expect(chapter(text).verify(against: source) == [])
        #expect(chapter(text).synced(from: source).text == text)
    }

    @Test func tildeFenceHoldsASnippet() {
        let stale = "<!-- xtun: 01-init/Kbuild -->\n~~~make\nold\n```\n~~~\nafter\n"
        #expect(chapter(stale).verify(against: source).map(\.description) == [
            "book/02-ops.md:3: snippet 01-init/Kbuild differs from driver/: expected `obj-m += xtun.o`, found `old`",
        ])
        let synced = chapter(stale).synced(from: source)
        #expect(synced.text == "<!-- xtun: 01-init/Kbuild -->\n~~~make\nobj-m += xtun.o\n~~~\nafter\n")
        #expect(chapter(synced.text).verify(against: source) == [])
    }

    @Test func unclosedOrdinaryFenceHidesLaterDirectives() {
        let text = "```c\ncode\n<!-- xtun: 09-nope/xtun.c -->\n"
        #expect(chapter(text).verify(against: source) == [])
        #expect(chapter(text).synced(from: source).text == text)
    }

    @Test func injectedStageMapping() {
        let text = "<!-- xtun: two/xtun.c#xmit -->\n```\n```\n"
        #expect(chapter(text).verify(against: source, stageNumbers: ["two": 2]).count == 1)
        #expect(chapter(text).synced(from: source, stageNumbers: ["two": 2]).problems == [])
        #expect(chapter(text).verify(against: source).first?.message.hasPrefix("unknown stage slug 'two'") == true)
    }

    @Test func snippetReferences() {
        #expect(SnippetReference(directive: "<!-- xtun: 02-ops+leak-skb/xtun.c#xmit -->")
            == SnippetReference(slug: "02-ops", pitfall: "leak-skb", file: "xtun.c", region: "xmit"))
        #expect(SnippetReference(directive: "<!-- xtun: 01-init/Kbuild -->")
            == SnippetReference(slug: "01-init", file: "Kbuild"))
        #expect(SnippetReference(directive: " <!-- xtun: 01-init/Kbuild -->") == nil)
        #expect(SnippetReference(directive: "<!-- xtun: 01-init/Kbuild --> ") == nil)
        #expect(SnippetReference(directive: "<!-- xtun: 01-init -->") == nil)
        #expect(SnippetReference("02-ops+leak-skb/xtun.c#xmit")?.directive
            == "<!-- xtun: 02-ops+leak-skb/xtun.c#xmit -->")
    }

    @Test func snippetReferencesWithPaths() {
        #expect(SnippetReference("05-test/user/xtun_test.c#main")
            == SnippetReference(slug: "05-test", file: "user/xtun_test.c", region: "main"))
        #expect(SnippetReference(directive: "<!-- xtun: 01-init/a/b.c -->")
            == SnippetReference(slug: "01-init", file: "a/b.c"))
        #expect(SnippetReference("05-test+p/user/deep/x.c")
            == SnippetReference(slug: "05-test", pitfall: "p", file: "user/deep/x.c"))
        #expect(SnippetReference("05-test/user/xtun_test.c#main")?.description == "05-test/user/xtun_test.c#main")
        for bad in ["05-test/../x.c", "05-test/user/../x.c", "05-test/./x.c", "05-test//x.c", "05-test/user//x.c",
                    "05-test/user/", "05-test/", "/05-test/x.c", "/x.c", "05-test/user/x.c#a#b", "05-test/us er/x.c"] {
            #expect(SnippetReference(bad) == nil, "\(bad) was accepted")
        }
    }

    @Test func snippetFromASubfolder() throws {
        let source = try parse([
            "Kbuild": "#> 01 obj\nobj-m += xtun.o\n#< obj\n",
            "user/xtun_test.c": "#include <stdio.h>\n//> 05 main\nint main(void)\n{\n}\n//< main\n",
        ])
        let text = """
            <!-- xtun: 05-test/user/xtun_test.c#main -->
            ```c
            int main(void)
            {
            }
            ```
            <!-- xtun: 05-test/user/missing.c -->
            ```
            ```
            """
        #expect(chapter(text).verify(against: source).map(\.description) == [
            "book/02-ops.md:7: file 'user/missing.c' is not in the 05-test snapshot (it has: Kbuild, user/xtun_test.c)",
        ])
    }

    @Test func bookDirectoryVerifyAndSync() throws {
        try withTemporaryDirectory { root in
            let bookDirectory = root.appendingPathComponent("book")
            let stale = "# Ops\n\n<!-- xtun: 02-ops/xtun.c#free -->\n```c\nold\n```\n"
            let clean = "# Init\n\n<!-- xtun: 01-init/Kbuild -->\n```\nobj-m += xtun.o\n```\n"
            try write(stale, to: bookDirectory.appendingPathComponent("02-ops.md"))
            try write(clean, to: bookDirectory.appendingPathComponent("01-init.md"))
            try write("<!-- xtun: bad -->\n", to: bookDirectory.appendingPathComponent(".hidden.md"))
            try write("not markdown <!-- xtun: bad -->\n", to: bookDirectory.appendingPathComponent("notes.txt"))
            let book = Book(directory: bookDirectory)

            #expect(try book.verify(against: source).map(\.description) == [
                "book/02-ops.md:5: snippet 02-ops/xtun.c#free differs from driver/: "
                    + "expected `\tdev_kfree_skb(skb);`, found `old`",
            ])
            let report = try book.sync(from: source)
            #expect(report.updatedChapters == ["book/02-ops.md"])
            #expect(report.updatedSnippets == 1)
            #expect(report.problems == [])
            #expect(try read(bookDirectory.appendingPathComponent("02-ops.md"))
                == "# Ops\n\n<!-- xtun: 02-ops/xtun.c#free -->\n```c\n\tdev_kfree_skb(skb);\n```\n")
            #expect(try read(bookDirectory.appendingPathComponent("01-init.md")) == clean)
            #expect(try book.verify(against: source) == [])
        }
    }

    @Test func layoutCheckCombinesStepsAndBook() throws {
        try withTemporaryDirectory { root in
            let layout = TutorialLayout(root: root)
            try StepsTree(directory: layout.steps).write(source, stages: stages(1, 2))
            try write("<!-- xtun: 02-ops/xtun.c#free -->\n```\n```\n",
                      to: layout.book.appendingPathComponent("02-ops.md"))
            let report = try layout.check(source, stages: stages(1, 2, 3))
            #expect(!report.isClean)
            #expect(report.lines == [
                "steps/03-tx/: missing stage directory (run `swift run steps`)",
                "book/02-ops.md:3: snippet 02-ops/xtun.c#free differs from driver/: "
                    + "expected `\tdev_kfree_skb(skb);`, found end of text",
            ])
        }
    }
}
