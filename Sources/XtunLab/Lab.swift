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

    public var pitfall: Pitfall? { if case .pitfall(let pitfall) = self { pitfall } else { nil } }
}

/// Where the kernel under test runs.
public enum Machine: Sendable, Equatable {
    /// A Debian kernel booted under QEMU: the default.
    case virtualMachine(KernelChoice)
    /// The running kernel (`--host`).
    case host

    var place: Place { self == .host ? .host : .virtualMachine }

    /// The kernel the VM boots; nil for the host.
    public var kernel: KernelChoice? { if case .virtualMachine(let kernel) = self { kernel } else { nil } }
}

/// One check to run: a stage's suite against a module on a kernel.
public struct CheckRequest: Sendable {
    public let stage: Stage
    public let machine: Machine
    public let source: SourceChoice
    /// After the checks, trace the driver's TX and RX paths (`--trace`).
    public var trace: Bool

    public init(stage: Stage, machine: Machine, source: SourceChoice = .steps, trace: Bool = false) {
        self.stage = stage
        self.machine = machine
        self.source = source
        self.trace = trace
    }

    /// A run in the VM on `kernel`.
    public init(stage: Stage, kernel: KernelChoice, source: SourceChoice = .steps, trace: Bool = false) {
        self.init(stage: stage, machine: .virtualMachine(kernel), source: source, trace: trace)
    }
}

/// Builds, boots and checks. Everything the CLI and the tests do goes
/// through here; it returns verdicts and never prints.
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
            ("sha256sum", "coreutils"),
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

    /// The kernel a request runs on: downloaded into the cache, or the running one.
    func kernel(for machine: Machine) throws -> ProvisionedKernel {
        switch machine {
        case .virtualMachine(let choice):
            try requireTools()
            return try KernelCache(directory: paths.kernels).provision(choice, progress: progress)
        case .host:
            return try HostMachine().kernel()
        }
    }

    /// Builds the request's module and runs its suite, in a VM or on the host.
    public func check(_ request: CheckRequest) throws -> StageVerdict {
        let started = Date()
        let stage = request.stage.slug
        progress("[\(stage)] provisioning the kernel")
        let kernel = try kernel(for: request.machine)
        let source = try moduleSource(for: request)
        progress("[\(stage)] building \(source.label) for \(kernel.release)")
        let build: Result<BuiltModule, BuildFailure>
        do {
            build = .success(try ModuleBuilder(work: paths.work).build(source, against: kernel))
        } catch let failure as BuildFailure {
            build = .failure(failure)
        }
        let (suite, omitted) = Suite.of(request.stage).runnable(at: request.machine.place,
                                                                debugKernel: request.machine.kernel?.isDebug ?? false)
        func verdict(run: GuestRun?, timings: Timings, rebuilt: Bool) -> StageVerdict {
            StageVerdict(suite: suite, kernel: kernel, source: source.label, pitfall: request.source.pitfall,
                         results: VerdictAssembler(suite: suite).results(build: build, run: run), omitted: omitted,
                         crashExcerpt: run.map(VerdictAssembler.crashExcerpt) ?? [], console: run?.console ?? "",
                         timings: timings, accelerator: request.machine == .host ? .host : accelerator,
                         moduleRebuilt: rebuilt, traces: run?.traces ?? [])
        }
        var timings = Timings()
        guard case .success(let module) = build else {
            timings.total = Date().timeIntervalSince(started)
            timings.build = timings.total
            return verdict(run: nil, timings: timings, rebuilt: true)
        }
        progress("[\(stage)] building the guest agent")
        let agent = try AgentBuilder(paths: paths).build()
        let run: GuestRun
        switch request.machine {
        case .host:
            timings.build = Date().timeIntervalSince(started)
            progress("[\(stage)] checking in Linux \(kernel.release)")
            run = try HostMachine().run(agent: agent, command: .check(AgentCheck(
                stage: request.stage, module: module.module.path, place: .host, trace: request.trace)))
        case .virtualMachine:
            run = try boot(request, suite: suite, kernel: kernel, agent: agent, module: module, started: started,
                           timings: &timings)
        }
        timings.boot = run.readyAt ?? run.duration
        timings.checks = run.duration - timings.boot
        timings.guestChecks = run.guestChecks
        timings.perCheck = run.checkTimes
        timings.total = Date().timeIntervalSince(started)
        return verdict(run: run, timings: timings, rebuilt: module.built)
    }

    /// Stage 05's bpftrace script, which `--trace` runs.
    static let probes = "xtun_probes.bt"

    /// A run directory's name of its own: runs of other sources (or of the
    /// same one) at the same time must not boot each other's module.
    static func runName(_ base: String) -> String {
        "\(base)-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))"
    }

    /// Boots the kernel with the module and the agent, and collects the run:
    /// one guest, or, for a suite split between guests (`Suite.guests`), all
    /// of them at once, each on a host core of its own, combined into one run.
    private func boot(_ request: CheckRequest, suite: Suite, kernel: ProvisionedKernel, agent: URL,
                      module: BuiltModule, started: Date, timings: inout Timings) throws -> GuestRun {
        let stage = request.stage.slug
        let guests = suite.guests
        let slowdown = request.machine.kernel?.slowdown ?? 1
        // A trace prints with Debian's tcpdump and bpftrace, from the host's
        // root, and runs stage 05's probes on any stage.
        var programs = module.programs
        if request.trace && !programs.contains(where: { $0.lastPathComponent == Lab.probes }) {
            programs.append(paths.layout.steps.appendingPathComponent("\(Stage.stage05.slug)/\(Lab.probes)"))
        }
        // From stage 06 the checks compare xtun with tun.ko and run Debian's programs.
        let sharesHost = request.trace || request.stage >= .stage06
        let kernelModules = sharesHost ? try GuestModules(kernel: kernel).resolve(HostShare.modules + ["tun", "veth"]) : nil
        let base = "\(stage)-\(kernel.release)" + (request.source.pitfall.map { "-\($0.name)" } ?? "")
        let initramfses = try guests.indices.map { guest in
            // Only the first guest traces: the trace follows the whole suite's checks there.
            let command = AgentCommand.check(AgentCheck(
                stage: request.stage, module: InitramfsBuilder.guestModule, report: .file(VirtualMachine.reportPort),
                timeScale: slowdown, debugKernel: request.machine.kernel?.isDebug ?? false,
                trace: request.trace && guest == 0, guest: guests.count > 1 ? guest : nil))
            return try InitramfsBuilder(work: paths.work)
                .build(agent: agent, module: module.module, programs: programs, task: .check(command),
                       name: Lab.runName(base + (guest == 0 ? "" : "-guest\(guest)")), kernelModules: kernelModules)
        }
        defer { for initramfs in initramfses { try? FileManager.default.removeItem(at: initramfs.deletingLastPathComponent()) } }
        timings.build = Date().timeIntervalSince(started)

        progress("[\(stage)] booting Linux \(kernel.release)" + (guests.count > 1 ? " in \(guests.count) guests at once" : ""))
        var machine = VirtualMachine(kernel: kernel, accelerator: accelerator)
        machine.timeout = timeout * Double(slowdown)
        machine.sharesHostRoot = sharesHost
        let total = suite.expectations.filter { $0.evaluator == .guest }.count
        let counter = ResultCounter()
        let vm = machine
        let runs = try GuestRun.concurrently(initramfses.count) { guest in
            let initramfs = initramfses[guest]
            return try vm.run(initramfs: initramfs,
                                   consoleLog: initramfs.deletingLastPathComponent().appendingPathComponent("console.log")) { timed in
                if case .result = timed.message {
                    progress("[\(stage)] checking in Linux \(kernel.release): \(counter.increment())/\(total)")
                }
            }
        }
        return GuestRun.combined(runs)
    }

    /// Boots with the stage's module loaded and hands the console to the user,
    /// with Debian's tools from the host's root (`HostShare`).
    public func shell(_ request: CheckRequest) throws -> Int32 {
        guard case .virtualMachine = request.machine else {
            throw LabError.usage("the shell runs in the VM")
        }
        let kernel = try kernel(for: request.machine)
        let source = try moduleSource(for: request)
        let module = try ModuleBuilder(work: paths.work).build(source, against: kernel)
        let agent = try AgentBuilder(paths: paths).build()
        let initramfs = try InitramfsBuilder(work: paths.work)
            .build(agent: agent, module: module.module, programs: module.programs, task: .shell(request.stage),
                   name: Lab.runName("shell-\(kernel.release)"),
                   kernelModules: try GuestModules(kernel: kernel).resolve(
                       HostShare.modules + (request.stage >= .stage06 ? ["tun", "veth"] : [])))
        defer { try? FileManager.default.removeItem(at: initramfs.deletingLastPathComponent()) }
        var machine = VirtualMachine(kernel: kernel, accelerator: accelerator)
        machine.sharesHostRoot = true
        return try machine.runInteractive(initramfs: initramfs)
    }

    /// Boots `machine` with the stage's module in /xtun and the host's root
    /// at /host, runs `script` and returns the console: what the guest's
    /// tools print, for tests and for stages that show them.
    public func runScript(_ script: String, stage: Stage, on machine: Machine, timeout: Double = 120) throws -> GuestRun {
        guard case .virtualMachine = machine else { throw LabError.usage("scripts run in the VM") }
        let request = CheckRequest(stage: stage, machine: machine)
        let kernel = try kernel(for: machine)
        let module = try ModuleBuilder(work: paths.work).build(try moduleSource(for: request), against: kernel)
        let agent = try AgentBuilder(paths: paths).build()
        let initramfs = try InitramfsBuilder(work: paths.work)
            .build(agent: agent, module: module.module, programs: module.programs, task: .script(script),
                   name: Lab.runName("script-\(kernel.release)"),
                   kernelModules: try GuestModules(kernel: kernel).resolve(HostShare.modules))
        defer { try? FileManager.default.removeItem(at: initramfs.deletingLastPathComponent()) }
        var vm = VirtualMachine(kernel: kernel, accelerator: accelerator)
        vm.sharesHostRoot = true
        vm.timeout = timeout * Double(machine.kernel?.slowdown ?? 1)
        return try vm.run(initramfs: initramfs,
                          consoleLog: initramfs.deletingLastPathComponent().appendingPathComponent("console.log"))
    }
}
