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

    @Test func writeRemovesStaleFilesButKeepsArtifactsSubdirectoriesAndOtherStages() throws {
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
