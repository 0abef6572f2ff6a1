import Foundation
import XtunChecks
import XtunSource

/// Which module sources a check uses.
public enum SourceChoice: Sendable, Equatable {
    /// `steps/<stage>/`, generated from driver/.
    case steps
    /// A learner's own copy (`--dir`).
    case directory(URL)
    /// A documented broken variant of the stage, built from driver/ (`--pitfall`).
    case pitfall(Pitfall)
}

/// One check to run: a stage's suite against a module on a kernel.
public struct CheckRequest: Sendable {
    public let stage: Stage
    public let kernel: KernelChoice
    public let source: SourceChoice

    public init(stage: Stage, kernel: KernelChoice, source: SourceChoice = .steps) {
        self.stage = stage
        self.kernel = kernel
        self.source = source
    }
}

/// Builds, boots and checks. Everything the CLI and the tests do goes through here.
public struct Lab: Sendable {
    public let paths: LabPaths
    public let accelerator: Accelerator
    /// Hard limit for one boot, in seconds; a hung guest is killed after it.
    public let timeout: Double
    public let progress: @Sendable (String) -> Void

    public init(paths: LabPaths, accelerator: Accelerator = .detect(), timeout: Double = 240,
                progress: @escaping @Sendable (String) -> Void = { _ in }) {
        self.paths = paths
        self.accelerator = accelerator
        self.timeout = timeout
        self.progress = progress
    }

    /// Fails with one line naming what to install when a host tool is missing.
    public func requireTools() throws {
        let tools: [(String, String)] = [
            ("qemu-system-x86_64", "qemu-system-x86"), ("cpio", "cpio"), ("make", "make"),
            ("gcc-12", "gcc-12"), ("strip", "binutils"), ("apt-get", "apt"), ("dpkg-deb", "dpkg"),
        ]
        for (tool, package) in tools where Shell.which(tool) == nil {
            throw LabError.environment("\(tool) is missing: install \(package) (./setup does)")
        }
        guard FileManager.default.fileExists(atPath: InitramfsBuilder.busybox) else {
            throw LabError.environment("\(InitramfsBuilder.busybox) is missing: install busybox-static (./setup does)")
        }
    }

    /// The directory whose module a request builds.
    public func moduleSource(for request: CheckRequest) throws -> ModuleSource {
        switch request.source {
        case .steps:
            let directory = paths.layout.steps.appendingPathComponent(request.stage.slug)
            return try ModuleSource(directory: directory, label: "steps/\(request.stage.slug)")
        case .directory(let directory):
            let inside = directory.path.hasPrefix(paths.root.path + "/")
            return try ModuleSource(directory: directory,
                                    label: inside ? String(directory.path.dropFirst(paths.root.path.count + 1))
                                        : directory.path)
        case .pitfall(let pitfall):
            let directory = paths.work.appendingPathComponent("variants/\(request.stage.slug)+\(pitfall.name)")
            let snapshot = try paths.layout.loadSource().snapshot(stage: request.stage.number, pitfall: pitfall.name)
            try? FileManager.default.removeItem(at: directory)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            _ = try snapshot.write(to: directory)
            return try ModuleSource(directory: directory, label: "driver/ at \(request.stage.slug) with pitfall \(pitfall.name)")
        }
    }

    /// Runs the request's suite in a VM and returns the verdict.
    public func check(_ request: CheckRequest) throws -> StageVerdict {
        let started = Date()
        try requireTools()
        let stage = request.stage.slug
        progress("[\(stage)] provisioning Linux \(request.kernel)")
        let kernel = try KernelCache(directory: paths.kernels).provision(request.kernel, progress: progress)
        let source = try moduleSource(for: request)
        progress("[\(stage)] building \(source.label) for \(kernel.release)")
        let build: Result<BuiltModule, BuildFailure>
        do {
            build = .success(try ModuleBuilder(work: paths.work).build(source, against: kernel))
        } catch let failure as BuildFailure {
            build = .failure(failure)
        }
        let suite = Suite.of(request.stage)
        let pitfall: Pitfall? = if case .pitfall(let pitfall) = request.source { pitfall } else { nil }
        var timings = Timings()
        guard case .success(let module) = build else {
            timings.total = Date().timeIntervalSince(started)
            timings.build = timings.total
            return StageVerdict(suite: suite, kernel: kernel, source: source.label, pitfall: pitfall,
                                results: VerdictAssembler(suite: suite).results(build: build, run: nil),
                                crashExcerpt: [], console: "", timings: timings, accelerator: accelerator,
                                moduleRebuilt: true)
        }
        progress("[\(stage)] building the guest agent")
        let agent = try AgentBuilder(paths: paths).build()
        let runName = "\(stage)-\(kernel.release)" + (pitfall.map { "-\($0.name)" } ?? "")
        let initramfs = try InitramfsBuilder(work: paths.work)
            .build(agent: agent, module: module.module, task: .check(stage: request.stage.number), name: runName)
        timings.build = Date().timeIntervalSince(started)

        progress("[\(stage)] booting Linux \(kernel.release)")
        var machine = VirtualMachine(kernel: kernel, accelerator: accelerator)
        machine.timeout = timeout
        var count = 0
        let run = try machine.run(initramfs: initramfs,
                                  consoleLog: paths.work.appendingPathComponent("runs/\(runName)/console.log")) { timed in
            if case .result = timed.message {
                count += 1
                progress("[\(stage)] checking in Linux \(kernel.release): \(count)/\(suite.expectations.count)")
            }
        }
        let ready = run.readyAt ?? run.duration
        timings.boot = ready
        timings.checks = run.duration - ready
        timings.total = Date().timeIntervalSince(started)
        let expectsCrash = suite.expectations.contains(.transmitWithoutXmitCrashes)
        return StageVerdict(suite: suite, kernel: kernel, source: source.label, pitfall: pitfall,
                            results: VerdictAssembler(suite: suite).results(build: build, run: run),
                            crashExcerpt: VerdictAssembler.crashExcerpt(run, expectedCrash: expectsCrash),
                            console: run.console, timings: timings, accelerator: accelerator,
                            moduleRebuilt: module.built)
    }

    /// Boots with the stage's module loaded and hands the console to the user.
    public func shell(_ request: CheckRequest) throws -> Int32 {
        try requireTools()
        let kernel = try KernelCache(directory: paths.kernels).provision(request.kernel, progress: progress)
        let source = try moduleSource(for: request)
        let module = try ModuleBuilder(work: paths.work).build(source, against: kernel)
        let agent = try AgentBuilder(paths: paths).build()
        let initramfs = try InitramfsBuilder(work: paths.work)
            .build(agent: agent, module: module.module, task: .shell, name: "shell-\(kernel.release)")
        return try VirtualMachine(kernel: kernel, accelerator: accelerator).runInteractive(initramfs: initramfs)
    }
}
