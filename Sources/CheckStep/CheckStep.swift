import ArgumentParser
import Foundation
import XtunChecks
import XtunLab

/// `swift run check-step N`: build a stage, boot a real kernel, check it.
/// `check` is the default subcommand; `shell` boots a stage for you to try.
struct CheckStepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-step",
        abstract: "Build a stage of xtun, load it into a real Linux kernel, and check what it does.",
        discussion: """
            Each check prints one line, PASS or FAIL; a FAIL names what was expected, what \
            happened, and the book section that explains it. Kernels are Debian's 6.1 and 6.12, \
            downloaded into ~/.cache/xtun-lab (or $XTUN_CACHE) and booted under QEMU.

            `check-step 3` is short for `check-step check 3`.

            \(ExitStatus.documentation)
            """,
        subcommands: [CheckCommand.self, ShellCommand.self, LintCommand.self],
        defaultSubcommand: CheckCommand.self)
}

/// Which stage, and which sources of it: shared by every subcommand.
struct StageOptions: ParsableArguments {
    @Argument(help: "The stage: 1-6, or all (where a command takes several).")
    var stage: String

    @Option(help: "Check your own copy of the stage in this directory instead of steps/.")
    var dir: String?

    @Option(help: "Build a documented broken variant of the stage and show its symptom.")
    var pitfall: String?

    /// The stages asked for, or a usage error.
    func stages(allowAll: Bool) throws -> [Stage] {
        if stage == "all" {
            guard allowAll else { throw ValidationError("this command takes one stage; give its number") }
            return Stage.written
        }
        guard let number = Int(stage), let found = Stage.numbered(number) else {
            throw ValidationError("unknown stage '\(stage)': choose 1-6 or all")
        }
        guard found.isWritten else {
            throw ValidationError("stage \(found.slug) is not written yet; written: "
                + Stage.written.map { String($0.number) }.joined(separator: ", "))
        }
        return [found]
    }

    func validate() throws {
        if dir != nil && stage == "all" { throw ValidationError("--dir checks one stage; give its number") }
        if pitfall != nil && (stage == "all" || dir != nil) {
            throw ValidationError("--pitfall builds a variant of one stage from driver/; give its number, no --dir")
        }
        if let pitfall {
            guard let known = Pitfall.named(pitfall) else {
                let names = Pitfall.all.map { "\($0.name) (\($0.stage.number))" }.joined(separator: ", ")
                throw ValidationError("unknown pitfall '\(pitfall)'; known: \(names)")
            }
            if let number = Int(stage), number != known.stage.number {
                throw ValidationError("pitfall \(known.name) belongs to stage \(known.stage.number): "
                    + "check-step \(known.stage.number) --pitfall \(known.name)")
            }
        }
        if let dir {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ValidationError("--dir \(dir): no such directory")
            }
        }
    }

    var source: SourceChoice {
        if let pitfall, let known = Pitfall.named(pitfall) { return .pitfall(known) }
        if let dir { return .directory(URL(fileURLWithPath: dir).standardizedFileURL) }
        return .steps
    }
}

/// `--kernel 6.1|6.12|all`.
func kernels(_ label: String?, allowAll: Bool) throws -> [KernelChoice] {
    let label = label ?? KernelChoice.v6_1.label
    if label == "all" {
        guard allowAll else { throw ValidationError("this command boots one kernel: 6.1 or 6.12") }
        return KernelChoice.all
    }
    guard let choice = KernelChoice.named(label) else {
        throw ValidationError("unknown kernel '\(label)': choose "
            + (KernelChoice.known.map(\.label) + (allowAll ? ["all"] : [])).joined(separator: ", "))
    }
    return [choice]
}

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check a stage in a real kernel (the default command).",
        discussion: ExitStatus.documentation)

    @OptionGroup var selection: StageOptions

    @Option(help: "Kernel: 6.1 (the default), 6.12, all (both), or debug (6.1 with KASAN, kmemleak, lockdep; built once).")
    var kernel: String?

    @Flag(help: "Load into the running kernel instead of a VM (needs root, headers, module support).")
    var host = false

    @Flag(help: "Print machine-readable results.")
    var json = false

    @Flag(help: "Show the guest console.")
    var verbose = false

    @Flag(help: "Print the time to verdict: build, boot and checks.")
    var timing = false

    @Flag(help: "After the checks, trace the driver's TX and RX paths: ftrace's function graph and tcpdump -XX.")
    var trace = false

    @Flag(help: "Instead of the checks, measure the stage against Linux's tun in one boot (stage 4 on).")
    var bench = false

    @Option(help: "Rounds of --bench, alternating xtun and tun.")
    var rounds = 5

    func validate() throws {
        _ = try selection.stages(allowAll: !host)
        _ = try kernels(kernel, allowAll: true)
        if host && selection.pitfall != nil {
            throw ValidationError("--host does not build pitfalls: they oops the kernel they run in; use the VM")
        }
        if host && kernel != nil {
            throw ValidationError("--host checks the running kernel; it takes no --kernel")
        }
        if bench {
            let stages = try selection.stages(allowAll: false)
            guard stages[0].number >= 4 else { throw ValidationError("--bench needs a stage that reads and writes: 4 on") }
            if host || trace { throw ValidationError("--bench runs alone in the VM: no --host, no --trace") }
            if (try kernels(kernel, allowAll: true)).count > 1 { throw ValidationError("--bench boots one kernel") }
            guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1") }
        }
    }

    /// What to run, one request per stage and kernel.
    func requests() throws -> [CheckRequest] {
        let machines: [Machine] = host ? [.host] : try kernels(kernel, allowAll: true).map { .virtualMachine($0) }
        return try selection.stages(allowAll: !host).flatMap { stage in
            machines.map { CheckRequest(stage: stage, machine: $0, source: selection.source, trace: trace) }
        }
    }

    func run() throws {
        GuestProcesses.shared.stopOnSignals()
        let paths = try LabPaths.discover()
        let progress = Progress(enabled: isatty(STDERR_FILENO) == 1 && !json)
        let lab = Lab(paths: paths, progress: { progress.show($0) })
        let style = ReportStyle(color: ReportStyle.colorAllowed(isTerminal: isatty(STDOUT_FILENO) == 1),
                                verbose: verbose, timing: timing)
        if bench {
            let request = try requests()[0]
            let result = try lab.bench(request, rounds: rounds)
            progress.clear()
            print(json ? try BenchReport().json(result, stage: request.stage)
                  : BenchReport().render(result, stage: request.stage), terminator: json ? "\n" : "")
            if !result.isComplete { throw ExitCode(ExitStatus.failure.rawValue) }
            return
        }
        var verdicts: [StageVerdict] = []
        for request in try requests() {
            let verdict = try lab.check(request)
            progress.clear()
            if !json { print(TextReport(style: style).render(verdict), terminator: "") }
            verdicts.append(verdict)
        }
        if json {
            print(try VerdictRecord.json(verdicts))
        } else if verdicts.count > 1 {
            let failing = verdicts.filter { !$0.isPass }
            print(failing.isEmpty ? "all \(verdicts.count) runs passed"
                  : "\(failing.count) of \(verdicts.count) runs failed: "
                  + failing.map { "\($0.suite.stage.slug) on \($0.kernel.release)" }.joined(separator: ", "))
        }
        if verdicts.contains(where: { !$0.isPass }) { throw ExitCode(ExitStatus.failure.rawValue) }
    }
}

struct ShellCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shell",
        abstract: "Boot the VM with a stage's module loaded and give you its shell; exit powers it off.")

    @OptionGroup var selection: StageOptions

    @Option(help: "Kernel: 6.1 (the default), 6.12 or debug.")
    var kernel: String?

    func validate() throws {
        _ = try selection.stages(allowAll: false)
        _ = try kernels(kernel, allowAll: false)
    }

    func request() throws -> CheckRequest {
        CheckRequest(stage: try selection.stages(allowAll: false)[0],
                     kernel: try kernels(kernel, allowAll: false)[0], source: selection.source)
    }

    func run() throws {
        let terminal = TerminalSettings.save()
        GuestProcesses.shared.stopOnSignals { terminal?.restore() }
        let paths = try LabPaths.discover()
        let progress = Progress(enabled: isatty(STDERR_FILENO) == 1)
        let lab = Lab(paths: paths, progress: { progress.show($0) })
        let status = try lab.shell(try request())
        progress.clear()
        throw ExitCode(status)
    }
}

struct LintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract: "Run the kernel's own checkers on a stage: checkpatch.pl --strict and sparse.",
        discussion: """
            checkpatch.pl comes from Debian's linux-source-6.12 package (downloaded once into the \
            cache); sparse runs through kbuild (make C=2 W=1) against each kernel's headers.

            Exit status: 0 clean, 1 findings, 2 usage or environment error.
            """)

    @OptionGroup var selection: StageOptions

    @Option(help: "Kernel headers for sparse: 6.1 (the default), 6.12 or all.")
    var kernel: String?

    func validate() throws {
        _ = try selection.stages(allowAll: true)
        _ = try kernels(kernel, allowAll: true)
    }

    func run() throws {
        let paths = try LabPaths.discover()
        let progress = Progress(enabled: isatty(STDERR_FILENO) == 1)
        let lab = Lab(paths: paths, progress: { progress.show($0) })
        var clean = true
        for stage in try selection.stages(allowAll: true) {
            let report = try lab.lint(CheckRequest(stage: stage, kernel: .v6_1, source: selection.source),
                                      kernels: try kernels(kernel, allowAll: true))
            progress.clear()
            print(report.text, terminator: "")
            clean = clean && report.isClean
        }
        if !clean { throw ExitCode(ExitStatus.failure.rawValue) }
    }
}

/// A one-line status on stderr, only on a terminal; cleared before results print.
final class Progress: @unchecked Sendable {
    let enabled: Bool
    private let lock = NSLock()

    init(enabled: Bool) { self.enabled = enabled }

    func show(_ text: String) {
        guard enabled else { return }
        lock.withLock { FileHandle.standardError.write(Data("\r\u{1b}[K\(text)…".utf8)) }
    }

    func clear() {
        guard enabled else { return }
        lock.withLock { FileHandle.standardError.write(Data("\r\u{1b}[K".utf8)) }
    }
}

/// Runs the command and maps every outcome onto `ExitStatus`: usage and
/// environment errors exit 2 (ArgumentParser's own default is 64).
@main
enum CheckStepMain {
    static func main() {
        GuestProcesses.shared.exit(status(CommandLine.arguments.dropFirst().map { $0 }))
    }

    static func status(_ arguments: [String]) -> Int32 {
        do {
            var command = try CheckStepCommand.parseAsRoot(arguments)
            try command.run()
            return ExitStatus.success.rawValue
        } catch let error as LabError {
            FileHandle.standardError.write(Data("check-step: \(error)\n".utf8))
            return ExitStatus.usage.rawValue
        } catch let code as ExitCode {
            return code.rawValue
        } catch {
            if CheckStepCommand.exitCode(for: error) == .success {
                print(CheckStepCommand.fullMessage(for: error))  // --help
                return ExitStatus.success.rawValue
            }
            FileHandle.standardError.write(Data((CheckStepCommand.fullMessage(for: error) + "\n").utf8))
            return ExitStatus.usage.rawValue
        }
    }
}
