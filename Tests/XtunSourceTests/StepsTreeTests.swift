import Foundation
import Testing
@testable import XtunSource

@Suite("steps/ writer and checker")
struct StepsTreeTests {
    let source: AnnotatedSource

    init() throws {
        source = try parse([
            "xtun.c": """
                #include <linux/module.h>
                //> 02 ops
                static int xtun_open(struct net_device *dev)
                {
                \treturn 0;
                }
                //< ops
                MODULE_LICENSE("GPL");
                """,
            "Kbuild": "#> 01 obj\nobj-m += xtun.o\n#< obj\n",
            "xtun.h": "//> 02 header\n#define XTUN_MTU 1500\n//< header\n",
        ])
    }

    @Test func writeThenCheckIsClean() throws {
        try withTemporaryDirectory { root in
            let steps = StepsTree(directory: root.appendingPathComponent("steps"))
            let summaries = try steps.write(source, stages: stages(1, 2))
            #expect(summaries.map(\.description) == [
                "steps/01-init: 2 files, 2 written, 0 removed",
                "steps/02-ops: 3 files, 3 written, 0 removed",
            ])
            #expect(try read(root.appendingPathComponent("steps/02-ops/xtun.h")) == "#define XTUN_MTU 1500\n")
            #expect(!exists(root.appendingPathComponent("steps/01-init/xtun.h")))
            #expect(try steps.check(source, stages: stages(1, 2)) == [])
            // A second run rewrites nothing.
            #expect(try steps.write(source, stages: stages(1, 2)).flatMap(\.written) == [])
        }
    }

    @Test func writeRemovesStaleFilesButKeepsArtifactsHiddenDirectoriesAndOtherStages() throws {
        try withTemporaryDirectory { root in
            let steps = StepsTree(directory: root.appendingPathComponent("steps"))
            let stageOne = root.appendingPathComponent("steps/01-init")
            let artifacts = ["xtun.o", "xtun.ko", "xtun.mod", "xtun.mod.c", "xtun.mod.o", ".xtun.o.cmd",
                             ".module-common.o", "modules.order", "Module.symvers"]
            for name in artifacts + ["stale.c", ".stale-hidden"] {
                try write("junk\n", to: stageOne.appendingPathComponent(name))
            }
            try write("keep\n", to: stageOne.appendingPathComponent(".tmp_versions/keep.txt"))
            try write("not mine\n", to: root.appendingPathComponent("steps/05-test/notes.txt"))

            let summaries = try steps.write(source, stages: stages(1))
            #expect(summaries.first?.removed == [".stale-hidden", "stale.c"])
            for name in artifacts {
                #expect(exists(stageOne.appendingPathComponent(name)), "\(name) was deleted")
            }
            #expect(exists(stageOne.appendingPathComponent(".tmp_versions/keep.txt")))
            #expect(exists(root.appendingPathComponent("steps/05-test/notes.txt")))
            #expect(try steps.check(source, stages: stages(1)) == [])
        }
    }

    @Test func checkFindsEveryKindOfDifference() throws {
        try withTemporaryDirectory { root in
            let steps = StepsTree(directory: root.appendingPathComponent("steps"))
            try steps.write(source, stages: stages(1, 2))
            let two = root.appendingPathComponent("steps/02-ops")
            try FileManager.default.removeItem(at: two.appendingPathComponent("xtun.h"))
            try write("extra\n", to: two.appendingPathComponent("notes.txt"))
            try write("built\n", to: two.appendingPathComponent("xtun.ko"))
            try write("""
                #include <linux/module.h>
                static int xtun_open(struct net_device *dev)
                {
                \treturn 1;
                }
                MODULE_LICENSE("GPL");

                """, to: two.appendingPathComponent("xtun.c"))
            try write("obj-m += xtun.o", to: root.appendingPathComponent("steps/01-init/Kbuild"))

            let differences = try steps.check(source, stages: stages(1, 2, 3))
            #expect(differences == [
                .contentDiffers(slug: "01-init", file: "Kbuild", LineDifference(
                    line: 1, expected: "obj-m += xtun.o",
                    actual: "obj-m += xtun.o [no newline at end of file]")),
                .extraFile(slug: "02-ops", file: "notes.txt"),
                .contentDiffers(slug: "02-ops", file: "xtun.c",
                                LineDifference(line: 4, expected: "\treturn 0;", actual: "\treturn 1;")),
                .missingFile(slug: "02-ops", file: "xtun.h"),
                .missingStageDirectory(slug: "03-tx"),
            ])
            #expect(differences.map(\.description) == [
                "steps/01-init/Kbuild:1: differs from driver/: expected `obj-m += xtun.o`, "
                    + "found `obj-m += xtun.o [no newline at end of file]`",
                "steps/02-ops/notes.txt: not produced by driver/ at this stage",
                "steps/02-ops/xtun.c:4: differs from driver/: expected `\treturn 0;`, found `\treturn 1;`",
                "steps/02-ops/xtun.h: missing (driver/ produces it at this stage)",
                "steps/03-tx/: missing stage directory (run `swift run steps`)",
            ])
        }
    }

    @Test func checkReportsTruncatedAndLongerFiles() throws {
        try withTemporaryDirectory { root in
            let steps = StepsTree(directory: root.appendingPathComponent("steps"))
            try steps.write(source, stages: stages(1))
            let kbuild = root.appendingPathComponent("steps/01-init/Kbuild")
            try write("obj-m += xtun.o\nmore\n", to: kbuild)
            #expect(try steps.check(source, stages: stages(1)) == [
                .contentDiffers(slug: "01-init", file: "Kbuild",
                                LineDifference(line: 2, expected: nil, actual: "more")),
            ])
            try write("", to: kbuild)
            #expect(try steps.check(source, stages: stages(1)) == [
                .contentDiffers(slug: "01-init", file: "Kbuild",
                                LineDifference(line: 1, expected: "obj-m += xtun.o", actual: nil)),
            ])
        }
    }

    @Test(arguments: [
        ("xtun.o", true), ("xtun.ko", true), ("xtun.mod", true), ("xtun.mod.c", true), ("xtun.mod.o", true),
        (".xtun.ko.cmd", true), (".module-common.o", true), ("modules.order", true), ("Module.symvers", true),
        ("xtun.c", false), ("Kbuild", false), ("Makefile", false), ("xtun.h", false), ("README", false),
    ])
    func buildArtifacts(name: String, isArtifact: Bool) {
        #expect(StepsTree.isBuildArtifact(name) == isArtifact)
    }

    @Test(arguments: [
        ("user/xtun_test.o", true), ("user/.xtun_test.o.cmd", true), ("user/modules.order", true),
        (".tmp_versions/xtun.mod", true), (".tmp_versions/notes.txt", true), ("user/.deps/x.d", true),
        ("user/xtun_test.c", false), ("user/Makefile", false), ("user/.stale", false), ("user/xtun_test", false),
    ])
    func buildArtifactsInSubfolders(path: String, isArtifact: Bool) {
        #expect(StepsTree.isBuildArtifact(path) == isArtifact)
    }

    @Test func elfFilesAreBuildArtifacts() throws {
        try withTemporaryDirectory { root in
            try write("\u{7f}ELF\u{2}\u{1}\u{1}\0rest", to: root.appendingPathComponent("user/xtun_test"))
            try write("#!/bin/sh\n", to: root.appendingPathComponent("user/script"))
            try write("\u{7f}EL", to: root.appendingPathComponent("short"))
            #expect(StepsTree.isBuildArtifact("user/xtun_test", in: root))
            #expect(!StepsTree.isBuildArtifact("user/script", in: root))
            #expect(!StepsTree.isBuildArtifact("short", in: root))
            #expect(!StepsTree.isBuildArtifact("missing", in: root))
            #expect(StepsTree.isBuildArtifact("missing.ko", in: root))
        }
    }

    /// `source` plus a userspace program in `user/` from stage 02 on.
    func sourceWithSubfolder() throws -> AnnotatedSource {
        try parse([
            "Kbuild": "#> 01 obj\nobj-m += xtun.o\n#< obj\n",
            "user/xtun_test.c": "//> 02 main\nint main(void)\n{\n\treturn 0;\n}\n//< main\n",
            "user/Makefile": "#> 02 all\nall: xtun_test\n#< all\n",
        ])
    }

    @Test func writeAndCheckSubfolders() throws {
        let source = try sourceWithSubfolder()
        try withTemporaryDirectory { root in
            let steps = StepsTree(directory: root.appendingPathComponent("steps"))
            let summaries = try steps.write(source, stages: stages(1, 2))
            #expect(summaries.map(\.files) == [["Kbuild"], ["Kbuild", "user/Makefile", "user/xtun_test.c"]])
            #expect(summaries.map(\.written) == summaries.map(\.files))
            #expect(try read(root.appendingPathComponent("steps/02-ops/user/Makefile")) == "all: xtun_test\n")
            #expect(!exists(root.appendingPathComponent("steps/01-init/user")))
            #expect(try steps.check(source, stages: stages(1, 2)) == [])
            #expect(try steps.write(source, stages: stages(1, 2)).flatMap(\.written) == [])
        }
    }

    @Test func writeRemovesStaleFilesInSubfoldersButKeepsArtifacts() throws {
        let source = try sourceWithSubfolder()
        try withTemporaryDirectory { root in
            let steps = StepsTree(directory: root.appendingPathComponent("steps"))
            let two = root.appendingPathComponent("steps/02-ops")
            let kept = ["user/xtun_test", "user/xtun_test.o", "user/.xtun_test.o.cmd", "user/.deps/main.d",
                        ".tmp_versions/xtun.mod"]
            try write("\u{7f}ELF\u{2}\u{1}\u{1}", to: two.appendingPathComponent("user/xtun_test"))
            for path in kept.dropFirst() { try write("built\n", to: two.appendingPathComponent(path)) }
            let stale = ["old/only.txt", "old/deeper/x.c", "user/old.c", "user/.stale", "user/tmp/x.txt"]
            for path in stale { try write("stale\n", to: two.appendingPathComponent(path)) }

            let summaries = try steps.write(source, stages: stages(2))
            #expect(summaries.first?.removed == stale.sorted())
            for path in kept {
                #expect(exists(two.appendingPathComponent(path)), "\(path) was deleted")
            }
            #expect(!exists(two.appendingPathComponent("old")), "a folder left empty stays")
            #expect(!exists(two.appendingPathComponent("user/tmp")), "a folder left empty stays")
            #expect(try steps.check(source, stages: stages(2)) == [])
        }
    }

    @Test func checkFindsDifferencesInSubfolders() throws {
        let source = try sourceWithSubfolder()
        try withTemporaryDirectory { root in
            let steps = StepsTree(directory: root.appendingPathComponent("steps"))
            try steps.write(source, stages: stages(2))
            let user = root.appendingPathComponent("steps/02-ops/user")
            try FileManager.default.removeItem(at: user.appendingPathComponent("Makefile"))
            try write("extra\n", to: user.appendingPathComponent("notes/extra.txt"))
            try write("int main(void)\n{\n\treturn 1;\n}\n", to: user.appendingPathComponent("xtun_test.c"))
            try write("\u{7f}ELF", to: user.appendingPathComponent("xtun_test"))
            try write("cache\n", to: user.appendingPathComponent(".cache/x"))

            let differences = try steps.check(source, stages: stages(2))
            #expect(differences.map(\.description) == [
                "steps/02-ops/user/Makefile: missing (driver/ produces it at this stage)",
                "steps/02-ops/user/notes/extra.txt: not produced by driver/ at this stage",
                "steps/02-ops/user/xtun_test.c:3: differs from driver/: expected `\treturn 0;`, found `\treturn 1;`",
            ])
        }
    }

    @Test func snapshotPathsCannotLeaveTheDirectory() throws {
        try withTemporaryDirectory { root in
            let out = root.appendingPathComponent("out")
            let snapshot = Snapshot(stage: 1, pitfall: nil, files: ["a.c": "a\n", "../escape.c": "x\n"])
            #expect(throws: SnapshotPathError(path: "../escape.c")) {
                try snapshot.write(to: out)
            }
            #expect(!exists(root.appendingPathComponent("escape.c")))
            #expect(!exists(out.appendingPathComponent("a.c")))
        }
    }

    @Test func snapshotWriteIntoArbitraryDirectory() throws {
        try withTemporaryDirectory { root in
            let variant = try parse(["a.c": "a\n//> 02 bug +p\nbug\n//< bug\n"])
            let out = root.appendingPathComponent("deep/variant")
            try write("left alone\n", to: out.appendingPathComponent("other.txt"))
            #expect(try variant.snapshot(stage: 2, pitfall: "p").write(to: out) == ["a.c"])
            #expect(try read(out.appendingPathComponent("a.c")) == "a\nbug\n")
            #expect(try read(out.appendingPathComponent("other.txt")) == "left alone\n")
            #expect(try variant.snapshot(stage: 2, pitfall: "p").write(to: out) == [])
        }
    }

    @Test func lineDifferences() {
        #expect(LineDifference.first(expected: "a\nb\n", actual: "a\nb\n") == nil)
        #expect(LineDifference.first(expected: "a\nb\n", actual: "a\nc\n")
            == LineDifference(line: 2, expected: "b", actual: "c"))
        #expect(LineDifference.first(expected: "a\n", actual: "a\n\n")
            == LineDifference(line: 2, expected: nil, actual: ""))
        #expect(LineDifference.first(expected: "a", actual: "a\n")
            == LineDifference(line: 1, expected: "a [no newline at end of file]", actual: "a"))
        #expect(LineDifference(line: 3, expected: nil, actual: "x").description
            == "line 3: expected end of text, found `x`")
    }

    @Test func findsPackageRootByName() throws {
        try withTemporaryDirectory { root in
            try write("let package = Package(\n    name: \"xtun-lab\",\n)\n",
                      to: root.appendingPathComponent("Package.swift"))
            try write("let package = Package(name: \"other\")\n",
                      to: root.appendingPathComponent("nested/Package.swift"))
            let deep = root.appendingPathComponent("nested/a/b")
            try FileManager.default.createDirectory(at: deep, withIntermediateDirectories: true)
            let found = TutorialLayout.find(from: deep)
            #expect(found?.root.standardizedFileURL.resolvingSymlinksInPath().path
                == root.standardizedFileURL.resolvingSymlinksInPath().path)
            #expect(TutorialLayout.find(from: deep, packageName: "missing-package") == nil)
        }
    }
}
