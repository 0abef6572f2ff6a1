import Foundation
import XtunChecks

/// `check-step N --host`: the same checks, in the running kernel. Refuses,
/// with every reason, unless it can work.
public struct HostCheck: Sendable {
    public let paths: LabPaths
    public let stage: Stage
    public let source: SourceChoice
    public let json: Bool

    public init(paths: LabPaths, stage: Stage, source: SourceChoice, json: Bool) {
        self.paths = paths
        self.stage = stage
        self.source = source
        self.json = json
    }

    public static var release: String {
        var name = utsname()
        uname(&name)
        return withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    /// Why the running kernel cannot be used; empty when it can.
    public static func refusals(release: String = HostCheck.release) -> [String] {
        var reasons: [String] = []
        if geteuid() != 0 { reasons.append("loading modules needs root") }
        if !FileManager.default.fileExists(atPath: "/proc/modules") {
            reasons.append("the running kernel \(release) has no module support (no /proc/modules)")
        } else if (try? String(contentsOfFile: "/proc/sys/kernel/modules_disabled", encoding: .utf8))?
                    .hasPrefix("1") == true {
            reasons.append("module loading is disabled (kernel.modules_disabled=1)")
        }
        if !FileManager.default.fileExists(atPath: "/lib/modules/\(release)/build/Makefile") {
            reasons.append("no headers for \(release) in /lib/modules/\(release)/build "
                + "(install linux-headers-\(release))")
        }
        return reasons
    }

    /// Runs the suite; returns the exit status (0 pass, 1 fail).
    public func run() throws -> Int32 {
        let reasons = HostCheck.refusals()
        guard reasons.isEmpty else {
            throw LabError.environment("--host refused: " + reasons.joined(separator: "; ")
                + ". Without --host the checks run in a VM.")
        }
        let release = HostCheck.release
        let kernel = ProvisionedKernel(release: release, version: "running", vmlinuz: "",
                                       headers: "/lib/modules/\(release)/build", packages: [])
        let lab = Lab(paths: paths)
        let moduleSource = try lab.moduleSource(for: CheckRequest(stage: stage, kernel: .v6_1, source: source))
        let started = Date()
        let build: Result<BuiltModule, BuildFailure>
        do {
            build = .success(try ModuleBuilder(work: paths.work).build(moduleSource, against: kernel))
        } catch let failure as BuildFailure {
            build = .failure(failure)
        }
        var run: GuestRun?
        if case .success(let module) = build {
            let agent = try AgentBuilder(paths: paths).build()
            let output = try Shell.run([agent.path, "check", "\(stage.number)", module.module.path, "--host"])
            let messages = output.output.split(separator: "\n").compactMap { WireMessage(line: $0) }
                .map { TimedMessage(message: $0, at: Date().timeIntervalSince(started)) }
            run = GuestRun(messages: messages, console: "", timedOut: false, exitStatus: output.status,
                           duration: Date().timeIntervalSince(started))
        }
        let suite = Suite.of(stage)
        let verdict = StageVerdict(
            suite: suite, kernel: kernel, source: moduleSource.label, pitfall: nil,
            results: VerdictAssembler(suite: suite).results(build: build, run: run), crashExcerpt: [],
            console: "", timings: Timings(total: Date().timeIntervalSince(started)), accelerator: .host,
            moduleRebuilt: true)
        if json {
            print(try VerdictRecord.json([verdict]))
        } else {
            print(TextReport(style: ReportStyle(color: false)).render(verdict), terminator: "")
        }
        return verdict.isPass ? 0 : 1
    }
}
