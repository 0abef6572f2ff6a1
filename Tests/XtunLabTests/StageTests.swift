import Foundation
import Testing
import XtunChecks
@testable import XtunLab
import XtunSource

/// Every check runs in a booted kernel: each stage must pass on both
/// kernels, and every check must be seen to fail (gates in the issue).
@Suite("Stages in a real kernel", .serialized)
struct StageTests {
    /// Every stage passes on both of Debian's kernels and on the debug kernel.
    @Test("each stage passes", arguments: Stage.written, KernelChoice.known)
    func stagePasses(_ stage: Stage, _ kernel: KernelChoice) throws {
        let verdict = try RunCache.shared.verdict(CheckRequest(stage: stage, kernel: kernel))
        #expect(verdict.isPass, "\(transcript(verdict))")
        if kernel.isDebug { #expect(verdict.omitted.isEmpty, "the debug kernel left checks out") }
    }

    /// Each pitfall on the kernels that see it: Debian's both, or the debug kernel.
    static let pitfallRuns: [(Pitfall, KernelChoice)] = Pitfall.all.flatMap { pitfall in
        (pitfall.needsDebugKernel ? [KernelChoice.debug] : KernelChoice.all).map { (pitfall, $0) }
    }

    @Test("each pitfall fails with its symptom", arguments: pitfallRuns)
    func pitfallFails(_ pitfall: Pitfall, _ kernel: KernelChoice) throws {
        let request = CheckRequest(stage: pitfall.stage, kernel: kernel, source: .pitfall(pitfall))
        let verdict = try RunCache.shared.verdict(request)
        #expect(!verdict.isPass)
        for expectation in pitfall.caughtBy {
            #expect(verdict.result(expectation)?.outcome.isFail == true,
                    "\(expectation.id) did not fail on \(pitfall.name):\n\(transcript(verdict))")
        }
        try Golden.check(transcript(verdict), name: "\(pitfall.stage.slug)+\(pitfall.name)@\(kernel.label)")
    }

    /// On 6.1, and on the debug kernel for what only it runs.
    static let previousStageRuns: [(Stage, KernelChoice)] = Stage.written.filter { $0.number > 1 }.flatMap { stage in
        [(stage, KernelChoice.v6_1)]
            + (Suite.of(stage).added.contains { if case .debugKernel = $0.requirement { true } else { false } }
                ? [(stage, KernelChoice.debug)] : [])
    }

    @Test("a stage's new checks fail on the previous stage", arguments: previousStageRuns)
    func newChecksFailOnPreviousStage(_ stage: Stage, _ kernel: KernelChoice) throws {
        let previous = labPaths.layout.steps.appendingPathComponent(stage.previous!.slug)
        let verdict = try RunCache.shared.verdict(CheckRequest(stage: stage, kernel: kernel,
                                                               source: .directory(previous)))
        let checked = Suite.of(stage).added.filter { !verdict.omitted.contains($0) }
        #expect(checked.contains { $0.heldSince == nil })
        for expectation in checked {
            // A check of a program the stage adds that uses the earlier driver
            // as it is must pass there: that is its claim (heldSince).
            let held = expectation.heldSince.map { $0 <= stage.previous! } ?? false
            #expect(verdict.result(expectation)?.outcome.isFail == !held,
                    "\(expectation.id) \(held ? "failed" : "passed") on \(stage.previous!.slug):\n\(transcript(verdict))")
        }
    }

    /// `--trace` shows the article's two ARP bugs as the article found them.
    @Test("--trace: noarp's write ends in arp_rcv and consume_skb")
    func traceShowsNoarp() throws {
        let verdict = try RunCache.shared.verdict(CheckRequest(stage: .stage04, kernel: .v6_1,
                                                               source: .pitfall(.noarp), trace: true))
        let graph = try #require(verdict.traces.first { $0.title.hasPrefix("RX:") }, "\(transcript(verdict))").text
        let lines = graph.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let arp = try #require(lines.firstIndex(of: "arp_rcv() {"), "\(graph)")
        #expect(lines[arp + 1] == "consume_skb() {", "\(graph)")
        #expect(!lines.contains { $0.hasPrefix("arp_process") }, "\(graph)")
    }

    @Test("--trace: empty-header-ops sends a 28-byte ARP request without its Ethernet header")
    func traceShowsEmptyHeaderOps() throws {
        let verdict = try RunCache.shared.verdict(CheckRequest(stage: .stage03, kernel: .v6_1,
                                                               source: .pitfall(.emptyHeaderOps), trace: true))
        let dump = try #require(verdict.traces.first { $0.title.hasPrefix("tcpdump") }, "\(transcript(verdict))")
        #expect(dump.title.contains("read from /dev/xtun: 28 bytes"), "\(dump.title)")
        // The ARP header read as an Ethernet header: hardware type 1, IPv4, lengths 6 and 4 are the "destination".
        #expect(dump.text.hasPrefix("00:01:02:00:00:99 > 00:01:08:00:06:04"), "\(dump.text)")
    }

    @Test("--trace: a working stage 04 answers the traced ARP request")
    func traceShowsTheAnswer() throws {
        let verdict = try RunCache.shared.verdict(CheckRequest(stage: .stage04, kernel: .v6_1, trace: true))
        #expect(verdict.isPass, "\(transcript(verdict))")
        let graph = try #require(verdict.traces.first { $0.title.hasPrefix("RX:") }).text
        #expect(graph.contains("arp_process() {"), "\(graph)")
        let dump = try #require(verdict.traces.first { $0.title.hasPrefix("tcpdump") }).text
        #expect(dump.contains("Reply 10.99.0.1 is-at 02:00:00:99:00:01"), "\(dump)")
    }

    /// The checks that hold since an earlier stage fail on a broken copy instead.
    @Test("the responder's checks fail on a copy of stage 05 that answers no ARP")
    func responderChecksFailWithoutARP() throws {
        let copy = try Self.brokenCopy("05-noarp", of: .stage05, ["xtun_net.c": [
            ("\tether_setup(dev);\n", "\tether_setup(dev);\n\tdev->flags = IFF_NOARP;\n")]])
        let verdict = try RunCache.shared.verdict(CheckRequest(stage: .stage05, kernel: .v6_1, source: .directory(copy)))
        let held = Suite.of(.stage05).added.filter { $0.heldSince != nil }
        #expect(!held.isEmpty)
        for expectation in held {
            #expect(verdict.result(expectation)?.outcome.isFail == true,
                    "\(expectation.id) passed on 05-noarp:\n\(transcript(verdict))")
        }
    }

    /// A copy of a stage (01 unless said) with text replaced; every replacement must apply.
    static func brokenCopy(_ name: String, of stage: Stage = .stage01,
                           _ edits: [String: [(String, String)]]) throws -> URL {
        let copy = labPaths.work.appendingPathComponent("tests/\(name)")
        try? FileManager.default.removeItem(at: copy)
        try FileManager.default.createDirectory(at: copy.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: labPaths.layout.steps.appendingPathComponent(stage.slug), to: copy)
        for (file, replacements) in edits {
            let url = copy.appendingPathComponent(file)
            var text = try String(contentsOf: url, encoding: .utf8)
            for (old, new) in replacements {
                try #require(text.contains(old), "\(file) has no \(old)")
                text = text.replacingOccurrences(of: old, with: new)
            }
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        return copy
    }

    /// Without a run directory of each run's own, this failed 1 run in 2:
    /// the second run's initramfs replaced the first's before it booted.
    @Test("two runs of one stage at the same time each boot their own module")
    func concurrentRunsKeepTheirModules() throws {
        let wrong = try Self.brokenCopy("01-mtu", ["xtun_net.c": [
            ("\teth_hw_addr_random(dev);\n", "\teth_hw_addr_random(dev);\n\tdev->mtu = 1400;\n")]])
        let requests = [CheckRequest(stage: .stage01, kernel: .v6_1),
                        CheckRequest(stage: .stage01, kernel: .v6_1, source: .directory(wrong))]
        let verdicts = try RunCache.shared.exclusive {
            let results = Locked([Int: Result<StageVerdict, Error>]())
            DispatchQueue.concurrentPerform(iterations: requests.count) { index in
                let result = Result { try Lab(paths: labPaths).check(requests[index]) }
                results.withLock { $0[index] = result }
            }
            return try results.withLock { all in try (0..<requests.count).map { try all[$0]!.get() } }
        }
        #expect(verdicts[0].result(.mtu1500)?.outcome.isPass == true, "\(transcript(verdicts[0]))")
        #expect(verdicts[1].result(.mtu1500)?.outcome.isFail == true, "\(transcript(verdicts[1]))")
    }

    @Test("stage 01's inspection checks fail on a module that gets each one wrong")
    func inspectionChecksFailOnWrongModules() throws {
        // Wrong type, MTU and MAC (a zero MAC also fails eth_validate_addr, so up fails).
        let wrong = try Self.brokenCopy("01-wrong", ["xtun_net.c": [
            ("#include <linux/netdevice.h>\n", "#include <linux/netdevice.h>\n#include <linux/if_arp.h>\n"),
            ("\teth_hw_addr_random(dev);\n", "\tdev->type = ARPHRD_NONE;\n\tdev->mtu = 1400;\n")]])
        let verdict = try RunCache.shared.verdict(CheckRequest(stage: .stage01, kernel: .v6_1,
                                                               source: .directory(wrong)))
        // The failures below must be the module's, not a build's or a crash's.
        #expect(verdict.result(.loads)?.outcome.isPass == true, "\(transcript(verdict))")
        for expectation in [Expectation.typeEther, .mtu1500, .macValid, .upWithoutOpen] {
            #expect(verdict.result(expectation)?.outcome.isFail == true,
                    "\(expectation.id) passed on 01-wrong:\n\(transcript(verdict))")
        }
        // An exit that leaves the device registered: unload and reload fail.
        let leak = try Self.brokenCopy("01-leak", ["xtun_main.c": [("\txtun_net_destroy(xtun_dev);\n", "")]])
        let leakVerdict = try RunCache.shared.verdict(CheckRequest(stage: .stage01, kernel: .v6_1,
                                                                   source: .directory(leak)))
        #expect(leakVerdict.result(.upWithoutOpen)?.outcome.isPass == true, "\(transcript(leakVerdict))")
        for expectation in [Expectation.unloads, .reloads] {
            #expect(leakVerdict.result(expectation)?.outcome.isFail == true,
                    "\(expectation.id) passed on 01-leak:\n\(transcript(leakVerdict))")
        }
        // A module that brings xtun up as it loads.
        let up = try Self.brokenCopy("01-up", ["xtun_net.c": [
            ("#include <linux/netdevice.h>\n", "#include <linux/netdevice.h>\n#include <linux/rtnetlink.h>\n"), (
            "\tpriv = netdev_priv(dev);\n",
            "\trtnl_lock();\n\tdev_open(dev, NULL);\n\trtnl_unlock();\n\tpriv = netdev_priv(dev);\n")]])
        let upVerdict = try RunCache.shared.verdict(CheckRequest(stage: .stage01, kernel: .v6_1,
                                                                 source: .directory(up)))
        #expect(upVerdict.result(.loads)?.outcome.isPass == true, "\(transcript(upVerdict))")
        #expect(upVerdict.result(.downAfterLoad)?.outcome.isFail == true, "\(transcript(upVerdict))")
    }

    // The pitfalls no-free-netdev and unpurged-queue are the other two leaks.
    @Test("the leak check fails on modules that leak, and only it", arguments: [
        // A write() that forgets the skb it rejects.
        ("leak-write", Stage.stage04, "xtun_chr.c",
         "\t\tDEV_STATS_INC(dev, rx_errors);\n\t\tkfree_skb(skb);\n\t\treturn -EINVAL;\n",
         "\t\tDEV_STATS_INC(dev, rx_errors);\n\t\treturn -EINVAL;\n", "(unloaded module)"),
    ])
    func leakCheckFailsOnLeaks(_ name: String, _ stage: Stage, _ file: String, _ old: String, _ new: String,
                               _ evidence: String) throws {
        let copy = try Self.brokenCopy(name, of: stage, [file: [(old, new)]])
        let verdict = try RunCache.shared.verdict(CheckRequest(stage: stage, kernel: .v6_1, source: .directory(copy)))
        let leak = try #require(verdict.result(.noLeaks))
        guard case .fail(_, let got) = leak.outcome else {
            Issue.record("no-leaks passed on \(name):\n\(transcript(verdict))")
            return
        }
        #expect(got.contains(evidence), "\(got)")
        let others = verdict.results.filter { $0.expectation != .noLeaks && $0.outcome.isFail }
        #expect(others.isEmpty, "other checks failed on \(name):\n\(transcript(verdict))")
    }

    @Test("the classification check fails on a write() that skips eth_type_trans()")
    func classificationNeedsEthTypeTrans() throws {
        let copy = try Self.brokenCopy("04-no-eth-type-trans", of: .stage04, ["xtun_chr.c": [(
            "\tskb->protocol = eth_type_trans(skb, dev);\n",
            "\tskb_reset_mac_header(skb);\n\tskb_pull(skb, ETH_HLEN);\n\tskb->protocol = eth_hdr(skb)->h_proto;\n")]])
        let verdict = try RunCache.shared.verdict(CheckRequest(stage: .stage04, kernel: .v6_1, source: .directory(copy)))
        guard case .fail(_, let got) = try #require(verdict.result(.rxClassification)).outcome else {
            Issue.record("rx-classification passed without eth_type_trans():\n\(transcript(verdict))")
            return
        }
        #expect(got.contains("another host's MAC: the stack saw PACKET_HOST"), "\(got)")
        #expect(got.contains("another host's MAC: answered, expected no answer"), "\(got)")
    }

    @Test("on the debug kernel, an init that does not unwind fails", arguments: [
        // misc_register() fails and the net_device it registered stays.
        ("03-no-unwind", Stage.stage03, "xtun_main.c", "destroy_net:\n\txtun_net_destroy(dev);\n", "destroy_net:\n",
         XtunChecks.Expectation.initUnwindsWithDevice, "the interface is still there"),
        // register_netdev() fails and the net_device is never freed: the
        // walk finds it allocated from the unloaded module.
        ("01-no-free", Stage.stage01, "xtun_net.c", "free_dev:\n\tfree_netdev(dev);\n", "free_dev:\n",
         XtunChecks.Expectation.initUnwinds, "alloc_netdev_mqs"),
    ])
    func unwindingIsChecked(_ name: String, _ stage: Stage, _ file: String, _ old: String, _ new: String,
                            _ expectation: XtunChecks.Expectation, _ evidence: String) throws {
        let copy = try Self.brokenCopy(name, of: stage, [file: [(old, new)]])
        let verdict = try RunCache.shared.verdict(CheckRequest(stage: stage, kernel: .debug, source: .directory(copy)))
        guard case .fail(_, let got) = try #require(verdict.result(expectation)).outcome else {
            Issue.record("\(expectation.id) passed on \(name):\n\(transcript(verdict))")
            return
        }
        #expect(got.contains(evidence), "\(got)")
    }

    @Test("the stage 01 oops check fails once ndo_start_xmit exists")
    func crashCheckFailsWithXmit() throws {
        let stage02 = labPaths.layout.steps.appendingPathComponent("02-ops")
        let verdict = try RunCache.shared.verdict(CheckRequest(stage: .stage01, kernel: .v6_1,
                                                               source: .directory(stage02)))
        #expect(verdict.result(.transmitWithoutXmitCrashes)?.outcome.isFail == true, "\(transcript(verdict))")
    }

    @Test("the book's transcripts are real runs")
    func bookTranscriptsMatchRuns() throws {
        let transcripts = try BookTranscript.all(in: labPaths.layout.book)
        let normalizer = TranscriptNormalizer()
        for book in transcripts {
            guard let request = RunCache.request(for: book.command) else {
                Issue.record("\(book.chapter):\(book.line): cannot run `\(book.command)`")
                continue
            }
            let fresh = try RunCache.shared.verdict(request)
            if book.isExcerpt {
                #expect(book.excerptMatches(transcript(fresh), normalize: normalizer.normalize),
                        "\(book.chapter):\(book.line): `\(book.command)` no longer prints these lines:\n\(transcript(fresh))")
            } else {
                #expect(normalizer.normalize(book.output) == normalizer.normalize(transcript(fresh)),
                        "\(book.chapter):\(book.line): `\(book.command)` prints differently now:\n\(transcript(fresh))")
            }
        }
    }
}

/// Golden files for the checker's FAIL output (codecrafters' redis-tester
/// idea): normalised transcripts in Tests/XtunLabTests/Golden. Set
/// XTUN_UPDATE_GOLDEN=1 to rewrite them from the current runs.
enum Golden {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    static func check(_ text: String, name: String) throws {
        let normalized = TranscriptNormalizer().normalize(text) + "\n"
        let file = directory.appendingPathComponent("\(name).txt")
        if ProcessInfo.processInfo.environment["XTUN_UPDATE_GOLDEN"] == "1" {
            try normalized.write(to: file, atomically: true, encoding: .utf8)
            return
        }
        // Normalised again, so a rule added later applies to the stored file too.
        let expected = (try? String(contentsOf: file, encoding: .utf8)).map { TranscriptNormalizer().normalize($0) + "\n" }
        #expect(expected != nil, "no golden file \(file.lastPathComponent); run with XTUN_UPDATE_GOLDEN=1")
        #expect(expected == normalized, "\(name) differs from its golden file:\n\(normalized)")
    }
}

/// What needs kernel headers but no VM: warnings, sparse, checkpatch.
@Suite("Builds and lint", .serialized)
struct BuildTests {
    func kernel(_ choice: KernelChoice) throws -> ProvisionedKernel {
        try KernelCache(directory: labPaths.kernels).provision(choice)
    }

    func stageSource(_ stage: Stage) throws -> ModuleSource {
        try ModuleSource(directory: labPaths.layout.steps.appendingPathComponent(stage.slug), label: stage.slug)
    }

    @Test("builds-clean fails on a module with a warning")
    func warningFailsTheBuildCheck() throws {
        let copy = labPaths.work.appendingPathComponent("tests/warning")
        try? FileManager.default.removeItem(at: copy)
        try FileManager.default.createDirectory(at: copy.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: labPaths.layout.steps.appendingPathComponent("01-init"), to: copy)
        let main = copy.appendingPathComponent("xtun_main.c")
        try (try String(contentsOf: main, encoding: .utf8) + "\nstatic int xtun_unused;\n")
            .write(to: main, atomically: true, encoding: .utf8)
        let built = try ModuleBuilder(work: labPaths.work).build(ModuleSource(directory: copy, label: "warning"),
                                                                 against: try kernel(.v6_1))
        let outcome = HostJudgeRegistry.buildOutcome(.success(built))
        #expect(outcome.isFail)
        #expect(built.warnings.contains { $0.contains("xtun_unused") })
    }

    @Test("sparse is clean", arguments: Stage.written, KernelChoice.all)
    func sparseIsClean(_ stage: Stage, _ choice: KernelChoice) throws {
        let findings = try Lint(paths: labPaths).sparse(try stageSource(stage), kernel: try kernel(choice))
        #expect(findings.isEmpty, "\(findings.joined(separator: "\n"))")
    }

    @Test("checkpatch --strict is clean", arguments: Stage.written)
    func checkpatchIsClean(_ stage: Stage) throws {
        let findings = try Lint(paths: labPaths).checkpatch(try stageSource(stage))
        #expect(findings.isEmpty, "\(findings.joined(separator: "\n"))")
    }

    @Test("check-step lint is clean on a stage and exits 1 on a style error")
    func lintCommand() throws {
        let clean = try Shell.run([CommandLineTests.binary.path, "lint", "3"], in: labPaths.root)
        #expect(clean.status == 0, "\(clean.output)")
        #expect(clean.output.contains("checkpatch --strict on steps/03-tx: clean"), "\(clean.output)")
        let copy = labPaths.work.appendingPathComponent("tests/lint-style")
        try? FileManager.default.removeItem(at: copy)
        try FileManager.default.createDirectory(at: copy.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: labPaths.layout.steps.appendingPathComponent("01-init"), to: copy)
        let main = copy.appendingPathComponent("xtun_main.c")
        try (try String(contentsOf: main, encoding: .utf8) + "\nint xtun_bad(int x)\n{\n\tif(x)\n\t\treturn 1;\n\treturn 0;\n}\n")
            .write(to: main, atomically: true, encoding: .utf8)
        let dirty = try Shell.run([CommandLineTests.binary.path, "lint", "1", "--dir", copy.path], in: labPaths.root)
        #expect(dirty.status == 1, "\(dirty.output)")
        #expect(dirty.output.contains("ERROR:SPACING"), "\(dirty.output)")
    }

    @Test("checkpatch finds a style error")
    func checkpatchCanFail() throws {
        let copy = labPaths.work.appendingPathComponent("tests/style")
        try? FileManager.default.removeItem(at: copy)
        try FileManager.default.createDirectory(at: copy, withIntermediateDirectories: true)
        try "// SPDX-License-Identifier: GPL-2.0\nint xtun_bad(int x)\n{\n\tif(x)\n\t\treturn 1;\n\treturn 0;\n}\n"
            .write(to: copy.appendingPathComponent("bad.c"), atomically: true, encoding: .utf8)
        try "obj-m := bad.o\n".write(to: copy.appendingPathComponent("Kbuild"), atomically: true, encoding: .utf8)
        let findings = try Lint(paths: labPaths).checkpatch(try ModuleSource(directory: copy, label: "style"))
        #expect(findings.contains { $0.contains("ERROR:SPACING") }, "\(findings)")
    }
}

/// A guest that never finishes must not hang the checker.
@Suite("Hung guests", .serialized)
struct TimeoutTests {
    @Test("a guest killed by the timeout fails every check with the reason and the console tail")
    func timeoutEndsTheRun() throws {
        let started = Date()
        let verdict = try RunCache.shared.exclusive {
            try Lab(paths: labPaths, timeout: 1.5).check(CheckRequest(stage: .stage01, kernel: .v6_1))
        }
        #expect(Date().timeIntervalSince(started) < 60)
        #expect(!verdict.isPass)
        let guest = verdict.results.filter { $0.expectation.evaluator == .guest }
        #expect(guest.allSatisfy { $0.outcome == .fail(expected: "", got: "no result: the guest did not finish in time") },
                "\(transcript(verdict))")
        #expect(!verdict.crashExcerpt.isEmpty || verdict.console.isEmpty)
    }
}
