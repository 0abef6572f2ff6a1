import Foundation
import Testing
@testable import XtunLab

/// Builds are reused only while what went into them is unchanged: keys are
/// made of contents, at any depth, not of dates.
@Suite("Build cache keys")
struct CacheKeyTests {
    /// A scratch directory for one test.
    func scratch(_ name: String) throws -> URL {
        let url = labPaths.work.appendingPathComponent("tests/keys-\(name)")
        try? FileManager.default.removeItem(at: url)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    func write(_ text: String, _ url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    @Test func theAgentKeyFollowsEverySourceFileAtAnyDepth() throws {
        let root = try scratch("agent")
        let deep = root.appendingPathComponent("Sources/XtunAgent/Checks/Deep/Stage09Checks.swift")
        try write("// swift-tools-version: 6.0\n", root.appendingPathComponent("Package.swift"))
        try write("let a = 1\n", root.appendingPathComponent("Sources/XtunChecks/A.swift"))
        try write("let b = 1\n", deep)
        let builder = AgentBuilder(paths: LabPaths(root: root, cache: root))
        let before = try builder.inputKey()
        try write("let b = 1\n", deep)  // rewritten, same content: a new date only
        #expect(try builder.inputKey() == before)
        try write("let b = 2\n", deep)
        let changed = try builder.inputKey()
        #expect(changed != before)
        try write("let c = 1\n", root.appendingPathComponent("Sources/CLinux/include/new.h"))
        #expect(try builder.inputKey() != changed)
    }

    @Test func theBaseInitramfsKeyFollowsInitAndTheLibraries() throws {
        let work = try scratch("base")
        let agent = work.appendingPathComponent("agent")
        try write("agent v1", agent)
        var builder = InitramfsBuilder(work: work)
        let before = try builder.baseKey(agent: agent)
        builder.initScript += "echo changed\n"
        let newInit = try builder.baseKey(agent: agent)
        #expect(newInit != before)
        builder.libraries.append("/lib/x86_64-linux-gnu/libz.so.1")
        #expect(try builder.baseKey(agent: agent) != newInit)
        try write("agent v2", agent)
        #expect(try InitramfsBuilder(work: work).baseKey(agent: agent) != before)
    }

    @Test func aChangedInitRebuildsTheBaseArchive() throws {
        let work = try scratch("rebuild")
        let agent = URL(fileURLWithPath: try #require(Shell.which("true")))
        var builder = InitramfsBuilder(work: work)
        let first = try builder.baseArchive(agent: agent)
        let firstBytes = try Data(contentsOf: first)
        #expect(try Data(contentsOf: try builder.baseArchive(agent: agent)) == firstBytes)
        builder.initScript += "echo a new line in /init\n"
        let second = try Data(contentsOf: try builder.baseArchive(agent: agent))
        #expect(second != firstBytes)
        #expect(String(decoding: second, as: UTF8.self).contains("echo a new line in /init"))
    }

    @Test func moduleBuildsAreKeyedOnTheirSources() throws {
        let directory = try scratch("module")
        try write("obj-m := x.o\n", directory.appendingPathComponent("Kbuild"))
        try write("int x;\n", directory.appendingPathComponent("x.c"))
        let source = try ModuleSource(directory: directory, label: "x")
        let before = try source.fingerprint()
        try write("int x = 1;\n", directory.appendingPathComponent("x.c"))
        #expect(try source.fingerprint() != before)
    }
}
