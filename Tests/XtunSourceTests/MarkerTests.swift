import Testing
@testable import XtunSource

@Suite("Markers and snapshots")
struct MarkerTests {
    @Test func fromStageOn() throws {
        let source = try parse(["a.c": """
            top
            //> 02 later
            from two
            //< later
            """])
        #expect(text(source, "a.c", stage: 1) == "top\n")
        for stage in 2...6 {
            #expect(text(source, "a.c", stage: stage) == "top\nfrom two\n")
        }
    }

    @Test func fromThroughStage() throws {
        let source = try parse(["a.c": """
            top
            //> 02-03 window
            two and three
            //< window
            """])
        #expect(text(source, "a.c", stage: 1) == "top\n")
        #expect(text(source, "a.c", stage: 2) == "top\ntwo and three\n")
        #expect(text(source, "a.c", stage: 3) == "top\ntwo and three\n")
        #expect(text(source, "a.c", stage: 4) == "top\n")
    }

    @Test func replacementAtLaterStage() throws {
        let source = try parse(["a.c": """
            //> 01-02 body
            old body
            //< body
            //> 03 body
            new body
            //< body
            """])
        #expect(text(source, "a.c", stage: 1) == "old body\n")
        #expect(text(source, "a.c", stage: 2) == "old body\n")
        #expect(text(source, "a.c", stage: 3) == "new body\n")
        #expect(source.snapshot(stage: 2).region(file: "a.c", name: "body") == "old body\n")
        #expect(source.snapshot(stage: 6).region(file: "a.c", name: "body") == "new body\n")
    }

    @Test func nestedBlocksNeedEveryEnclosingBlock() throws {
        let source = try parse(["a.c": """
            //> 02 outer
            outer line
            \t//> 03 inner
            \tinner line
            \t//< inner
            //< outer
            //> 04 late
            //> 01 early
            early inside late
            //< early
            //< late
            """])
        #expect(text(source, "a.c", stage: 1) == nil)
        #expect(text(source, "a.c", stage: 2) == "outer line\n")
        #expect(text(source, "a.c", stage: 3) == "outer line\n\tinner line\n")
        #expect(text(source, "a.c", stage: 4) == "outer line\n\tinner line\nearly inside late\n")
    }

    @Test func pitfallConditions() throws {
        let source = try parse(["a.c": """
            common
            //> 02 fixed -leak-skb
            kfree_skb(skb);
            //< fixed
            //> 02 broken +leak-skb
            /* forgot to free */
            //< broken
            """])
        #expect(text(source, "a.c", stage: 2) == "common\nkfree_skb(skb);\n")
        #expect(text(source, "a.c", stage: 2, pitfall: "leak-skb") == "common\n/* forgot to free */\n")
        #expect(text(source, "a.c", stage: 2, pitfall: "other") == "common\nkfree_skb(skb);\n")
        #expect(text(source, "a.c", stage: 1, pitfall: "leak-skb") == "common\n")
        #expect(source.pitfallNames == ["leak-skb"])
        #expect(source.stages(affectedBy: "leak-skb") == [2, 3, 4, 5, 6])
        #expect(source.stages(affectedBy: "nope") == [])
        #expect(source.snapshot(stage: 2, pitfall: "leak-skb").region(file: "a.c", name: "broken")
            == "/* forgot to free */\n")
        #expect(source.snapshot(stage: 2).region(file: "a.c", name: "broken") == nil)
    }

    @Test func hashMarkersInMakefileAndKbuild() throws {
        let source = try parse([
            "Kbuild": """
                # SPDX-License-Identifier: GPL-2.0
                #> 01 obj
                obj-m += xtun.o
                #< obj
                #> 03 flags
                ccflags-y += -DDEBUG
                #< flags
                #comment without a space
                """,
            "Makefile": """
                \t#> 02 all
                all:
                \t$(MAKE) -C $(KDIR) M=$(PWD) modules
                \t#< all
                # //> 02 not-a-marker here
                //> 02 also not a marker
                """,
        ])
        #expect(text(source, "Kbuild", stage: 1)
            == "# SPDX-License-Identifier: GPL-2.0\nobj-m += xtun.o\n#comment without a space\n")
        #expect(text(source, "Kbuild", stage: 3)
            == "# SPDX-License-Identifier: GPL-2.0\nobj-m += xtun.o\nccflags-y += -DDEBUG\n#comment without a space\n")
        #expect(text(source, "Makefile", stage: 1) == "# //> 02 not-a-marker here\n//> 02 also not a marker\n")
        #expect(text(source, "Makefile", stage: 2)
            == "all:\n\t$(MAKE) -C $(KDIR) M=$(PWD) modules\n# //> 02 not-a-marker here\n//> 02 also not a marker\n")
    }

    @Test func hashIsOrdinaryTextInCFiles() throws {
        let source = try parse(["a.h": """
            #ifndef A_H
            #> 02 this is just text in C
            #endif
            """])
        #expect(text(source, "a.h", stage: 1) == "#ifndef A_H\n#> 02 this is just text in C\n#endif\n")
    }

    @Test func blankLinesCollapseAndEdgesAreTrimmed() throws {
        let source = try parse(["a.c": """


            first


            //> 02-02 gone
            removed
            //< gone

            \tsecond\t

            //> 03 tail
            tail
            //< tail


            """])
        #expect(text(source, "a.c", stage: 1) == "first\n\n\tsecond\t\n")
        #expect(text(source, "a.c", stage: 3) == "first\n\n\tsecond\t\n\ntail\n")
        #expect(text(source, "a.c", stage: 2) == "first\n\nremoved\n\n\tsecond\t\n")
    }

    @Test func fileWithNothingToEmitIsOmitted() throws {
        let source = try parse([
            "a.c": "always\n",
            "late.c": "\n\n//> 03 all\nlate\n//< all\n\n",
            "gone.h": "//> 01-01 only-first\nfirst\n//< only-first\n",
        ])
        #expect(source.snapshot(stage: 1).files.keys.sorted() == ["a.c", "gone.h"])
        #expect(source.snapshot(stage: 2).files.keys.sorted() == ["a.c"])
        #expect(source.snapshot(stage: 3).files.keys.sorted() == ["a.c", "late.c"])
        #expect(source.snapshot(stage: 3).files["late.c"] == "late\n")
    }

    @Test func regionsNestedAndStripped() throws {
        let source = try parse(["a.c": """
            //> 01 probe
            static int probe(void)
            {

            \t//> 02 alloc
            \tp = kmalloc(8, GFP_KERNEL);


            \tif (!p)
            \t\treturn -ENOMEM;
            \t//< alloc

            \treturn 0;
            }
            //< probe
            """])
        let one = source.snapshot(stage: 1)
        #expect(one.region(file: "a.c", name: "probe") == "static int probe(void)\n{\n\n\treturn 0;\n}\n")
        #expect(one.region(file: "a.c", name: "alloc") == nil)
        #expect(one.regionNames(file: "a.c") == ["probe"])
        let two = source.snapshot(stage: 2)
        #expect(two.region(file: "a.c", name: "alloc")
            == "\tp = kmalloc(8, GFP_KERNEL);\n\n\tif (!p)\n\t\treturn -ENOMEM;\n")
        #expect(two.region(file: "a.c", name: "probe") == """
            static int probe(void)
            {

            \tp = kmalloc(8, GFP_KERNEL);

            \tif (!p)
            \t\treturn -ENOMEM;

            \treturn 0;
            }

            """)
        #expect(two.regionNames(file: "a.c") == ["alloc", "probe"])
        #expect(two.region(file: "b.c", name: "probe") == nil)
    }

    @Test func regionThatEmitsOnlyBlankLinesDoesNotExist() throws {
        let source = try parse(["a.c": "x\n//> 01 empty\n\n\n//< empty\ny\n"])
        #expect(source.snapshot(stage: 1).region(file: "a.c", name: "empty") == nil)
        #expect(text(source, "a.c", stage: 1) == "x\n\ny\n")
    }

    @Test func sameNameInDifferentRangesOrVariantsIsFine() throws {
        #expect(diagnostics(["a.c": """
            //> 01-02 body
            a
            //< body
            //> 03 body
            b
            //< body
            //> 02 fix -p
            c
            //< fix
            //> 02 fix +p
            d
            //< fix
            """]) == [])
    }

    @Test func loadReadsSubdirectoriesSkippingHiddenOnes() throws {
        try withTemporaryDirectory { root in
            let driver = root.appendingPathComponent("driver")
            try write("//> 01 init\nint x;\n//< init\n", to: driver.appendingPathComponent("xtun.c"))
            try write("#> 01 obj\nobj-m += xtun.o\n#< obj\n", to: driver.appendingPathComponent("Kbuild"))
            try write("//> 05 main\nint main(void)\n//< main\n", to: driver.appendingPathComponent("user/xtun_test.c"))
            try write("#> 05 all\nall: xtun_test\n#< all\n", to: driver.appendingPathComponent("user/Makefile"))
            try write("notes\n", to: driver.appendingPathComponent("user/doc/notes.txt"))
            for hidden in [".hidden.c", ".git/inner.c", "user/.hidden.c", "user/.cache/x.c"] {
                try write("//> 99 broken\n", to: driver.appendingPathComponent(hidden))
            }
            let source = try AnnotatedSource.load(directory: driver)
            #expect(source.files.map(\.name)
                == ["Kbuild", "user/Makefile", "user/doc/notes.txt", "user/xtun_test.c", "xtun.c"])
            #expect(source.snapshot(stage: 1).files == [
                "xtun.c": "int x;\n", "Kbuild": "obj-m += xtun.o\n", "user/doc/notes.txt": "notes\n",
            ])
            #expect(text(source, "user/xtun_test.c", stage: 5) == "int main(void)\n")
            #expect(text(source, "user/Makefile", stage: 5) == "all: xtun_test\n")
            #expect(source.snapshot(stage: 5).region(file: "user/xtun_test.c", name: "main") == "int main(void)\n")
        }
    }

    @Test func loadNamesSubdirectoryFilesInDiagnostics() throws {
        try withTemporaryDirectory { root in
            let driver = root.appendingPathComponent("driver")
            try write("ok\n", to: driver.appendingPathComponent("xtun.c"))
            try write("#> 05 all\n", to: driver.appendingPathComponent("user/Makefile"))
            #expect(throws: SourceError(diagnostics: [
                SourceDiagnostic(file: "driver/user/Makefile", line: 1, message: "block 'all' is never closed"),
            ])) {
                try AnnotatedSource.load(directory: driver)
            }
        }
    }

    @Test func pathsMustStayInsideTheSource() {
        #expect(diagnostics(["../x.c": "a\n", "./a.c": "a\n", "/abs.c": "a\n", "a//b.c": "a\n", "ok/b.c": "b\n"]) == [
            "driver/../x.c:1: not a relative path (want components without empty, '.' or '..' ones)",
            "driver/./a.c:1: not a relative path (want components without empty, '.' or '..' ones)",
            "driver//abs.c:1: not a relative path (want components without empty, '.' or '..' ones)",
            "driver/a//b.c:1: not a relative path (want components without empty, '.' or '..' ones)",
        ])
    }

    @Test func markerReading() {
        #expect(Marker.read("//> 02-04 name +pit", leader: .slashes)
            == .marker(.open(BlockHeader(stages: StageRange(from: 2, through: 4), name: "name",
                                         condition: .only("pit")))))
        #expect(Marker.read("  \t//< name", leader: .slashes) == .marker(.close(name: "name")))
        #expect(Marker.read("#> 06 x-1 -p", leader: .hash)
            == .marker(.open(BlockHeader(stages: StageRange(from: 6), name: "x-1", condition: .except("p")))))
        #expect(Marker.read("# foo", leader: .hash) == .text)
        #expect(Marker.read("// foo", leader: .slashes) == .text)
        #expect(Marker.read("//> 02 x", leader: .hash) == .text)
        #expect(CommentLeader(fileName: "xtun.h") == .slashes)
        #expect(CommentLeader(fileName: "Makefile") == .hash)
        #expect(CommentLeader(fileName: "user/xtun_test.c") == .slashes)
        #expect(CommentLeader(fileName: "user/Makefile") == .hash)
        #expect(CommentLeader(fileName: "lib.c/Makefile") == .hash, "only the last path component counts")
        #expect(StageRange(from: 2, through: 3).description == "02-03")
        #expect(BlockHeader(stages: StageRange(from: 1), name: "a", condition: .except("p")).description == "01 a -p")
    }
}
