import Foundation
import Testing
@testable import XtunSource

@Suite("Marker errors")
struct MarkerErrorTests {
    /// The single diagnostic for a one-file source, or a failure message.
    func only(_ file: String, _ text: String, knownPitfalls: Set<String>? = nil) -> String {
        let found = diagnostics([file: text], knownPitfalls: knownPitfalls)
        return found.count == 1 ? found[0] : "expected one diagnostic, got \(found)"
    }

    @Test(arguments: [
        ("//>02 x", "must be followed by a space"),
        ("//> 2 x", "bad stages '2'"),
        ("//> 02", "open marker must be"),
        ("//> 02 x +p extra", "open marker must be"),
        ("//> 02 Name", "bad region name 'Name'"),
        ("//> 02 x ?p", "bad condition '?p'"),
        ("//> 02 x +", "bad condition '+'"),
        ("//> 02 x +Bad", "bad condition '+Bad'"),
        ("//> 02-3 x", "bad stages '02-3'"),
        ("//> 02-03-04 x", "bad stages '02-03-04'"),
        ("//<", "must be followed by a space"),
        ("//< ", "close marker must be"),
        ("//< a b", "close marker must be"),
    ])
    func malformedMarkers(line: String, reason: String) {
        let message = only("x.c", "ok\n\(line)\n")
        #expect(message.hasPrefix("driver/x.c:2: malformed marker: "))
        #expect(message.contains(reason))
    }

    @Test(arguments: ["//> 00 x", "//> 07 x", "//> 01-07 x", "//> 99 x"])
    func stageOutOfRange(line: String) {
        let message = only("x.c", "\(line)\n//< x\n")
        #expect(message.hasPrefix("driver/x.c:1: malformed marker: stage "))
        #expect(message.contains("out of range 01..06"))
    }

    @Test func lastStageBeforeFirst() {
        #expect(only("x.c", "//> 03-02 x\n//< x\n").hasPrefix("driver/x.c:1: malformed marker: bad stages '03-02'"))
    }

    @Test func malformedHashMarkerInMakefile() {
        #expect(only("Makefile", "# fine\n#>01 x\n").hasPrefix("driver/Makefile:2: malformed marker:"))
        #expect(only("Kbuild", "#< \n").hasPrefix("driver/Kbuild:1: malformed marker:"))
    }

    @Test func oneTypoIsOneError() {
        #expect(diagnostics(["x.c": "//> 01 a\n//<a\nint x;\n"])
            == ["driver/x.c:2: malformed marker: marker '//<' must be followed by a space"])
        #expect(diagnostics(["x.c": "//> 01 a\n//> 1 b\n//< b\n//< a\n"])
            == ["driver/x.c:2: malformed marker: bad stages '1' (want two-digit NN or NN-MM)"])
    }

    @Test func unmatchedClose() {
        #expect(only("x.c", "a\n//< nothing\n") == "driver/x.c:2: close marker '//< nothing' has no open block")
    }

    @Test func mismatchedClose() {
        let found = diagnostics(["x.c": "//> 01 outer\n//> 02 inner\n//< outer\n"])
        #expect(found == [
            "driver/x.c:3: close marker '//< outer' does not match the innermost open block 'inner' (opened at line 2)",
        ])
    }

    @Test func unclosedBlocksAtEndOfFile() {
        let found = diagnostics(["x.c": "//> 01 outer\ncode\n//> 02 inner\n"])
        #expect(found == [
            "driver/x.c:1: block 'outer' is never closed",
            "driver/x.c:3: block 'inner' is never closed",
        ])
    }

    @Test func unknownPitfallWhenValidating() {
        let text = "//> 02 a +leak-skb\nx\n//< a\n//> 02 b -typo\ny\n//< b\n"
        #expect(diagnostics(["x.c": text], knownPitfalls: ["leak-skb"])
            == ["driver/x.c:4: unknown pitfall 'typo' in condition '-typo'"])
        #expect(diagnostics(["x.c": text]) == [])
        #expect(diagnostics(["x.c": text], knownPitfalls: []).count == 2)
    }

    @Test func duplicateActiveRegion() {
        let found = diagnostics(["x.c": """
            //> 01 tx
            one
            //< tx
            //> 03 tx
            two
            //< tx
            """])
        #expect(found == ["driver/x.c:4: region 'tx' is also emitted by the block at line 1 in stage 03"])
    }

    @Test func duplicateRegionOnlyInPitfallVariant() {
        let found = diagnostics(["x.c": """
            //> 02 fix
            a
            //< fix
            //> 02 fix +p
            b
            //< fix
            """])
        #expect(found == ["driver/x.c:4: region 'fix' is also emitted by the block at line 1 in stage 02 (pitfall p)"])
    }

    @Test func duplicateThatNeverEmitsTogetherIsFine() {
        #expect(diagnostics(["x.c": "//> 01 r\na\n//< r\n//> 02 r\n\n//< r\n"]) == [])
    }

    @Test func everyFileReportsEveryProblem() {
        let found = diagnostics([
            "b.c": "//< x\n",
            "Kbuild": "#> 9 obj\n",
            "a.h": "//> 01 ok\n//< ok\n//> 01 open\n",
        ])
        #expect(found == [
            "driver/Kbuild:1: malformed marker: bad stages '9' (want two-digit NN or NN-MM)",
            "driver/a.h:3: block 'open' is never closed",
            "driver/b.c:1: close marker '//< x' has no open block",
        ])
    }

    @Test func loadReportsDirectoryRelativePaths() throws {
        try withTemporaryDirectory { root in
            let driver = root.appendingPathComponent("driver")
            try write("ok\n//> 01 a\n", to: driver.appendingPathComponent("xtun.c"))
            #expect(throws: SourceError(diagnostics: [
                SourceDiagnostic(file: "driver/xtun.c", line: 2, message: "block 'a' is never closed"),
            ])) {
                try AnnotatedSource.load(directory: driver)
            }
        }
    }
}
