import ArgumentParser
import Foundation
import XtunChecks
import XtunLab

/// `swift run check-step N`: build a stage, boot a real kernel, check it.
struct CheckStep: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-step",
        abstract: "Build a stage of xtun, load it into a real Linux kernel, and check what it does.",
        discussion: """
            Each check prints one line, PASS or FAIL; a FAIL names what was expected, what \
            happened, and the book section that explains it. Kernels are Debian's 6.1 and 6.12, \
            downloaded into ~/.cache/xtun-lab (or $XTUN_CACHE) and booted under QEMU.

            Exit status: 0 all checks passed, 1 a check failed, 2 usage or environment error.
            """)

    @Argument(help: "Stage to check: 1-6, or all.")
    var stage: String

    @Option(help: "Kernel: 6.1, 6.12 or all.")
    var kernel: String = "6.1"

    @Option(help: "Check your own copy of the stage in this directory instead of steps/.")
    var dir: String?

    @Option(help: "Build a documented broken variant of the stage and show its symptom.")
    var pitfall: String?

    @Flag(help: "Load into the running kernel instead of a VM (needs root, headers, module support).")
    var host = false

    @Flag(help: "Boot the VM with the stage's module loaded and give an interactive shell.")
    var shell = false

    @Flag(help: "Print machine-readable results.")
    var json = false

    @Flag(help: "Show the guest console.")
    var verbose = false

    @Flag(help: "Print the time to verdict: build, boot and checks.")
    var timing = false

    mutating func validate() throws {
        _ = try stages()
        _ = try kernels()
        if dir != nil && stage == "all" { throw ValidationError("--dir checks one stage; give its number") }
        if pitfall != nil && (stage == "all" || dir != nil) {
            throw ValidationError("--pitfall builds a variant of one stage from driver/; give its number, no --dir")
        }
        if host && pitfall != nil {
            throw ValidationError("--host does not build pitfalls: they oops the kernel they run in; use the VM")
        }
        if shell && (stage == "all" || json || host) {
            throw ValidationError("--shell boots one stage in the VM; it takes no --json, --host or all")
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

    func stages() throws -> [Stage] {
        if stage == "all" { return Stage.written }
        guard let number = Int(stage), let found = Stage.numbered(number) else {
            throw ValidationError("unknown stage '\(stage)': choose 1-6 or all")
        }
        guard found.isWritten else {
            throw ValidationError("stage \(found.slug) is not written yet; written: "
                + Stage.written.map { String($0.number) }.joined(separator: ", "))
        }
        return [found]
    }

    func kernels() throws -> [KernelChoice] {
        if kernel == "all" { return KernelChoice.all }
        guard let choice = KernelChoice.named(kernel) else {
            throw ValidationError("unknown kernel '\(kernel)': choose 6.1, 6.12 or all")
        }
        return [choice]
    }

    func source() -> SourceChoice {
        if let pitfall, let known = Pitfall.named(pitfall) { return .pitfall(known) }
        if let dir { return .directory(URL(fileURLWithPath: dir).standardizedFileURL) }
        return .steps
    }

    func run() throws {
        let paths = try LabPaths.discover()
        let progress = Progress(enabled: isatty(STDERR_FILENO) == 1 && !json)
        let lab = Lab(paths: paths, progress: { progress.show($0) })
        let stages = try stages()
        if shell {
            let status = try lab.shell(CheckRequest(stage: stages[0], kernel: try kernels()[0], source: source()))
            throw ExitCode(status)
        }
        if host {
            throw ExitCode(try HostCheck(paths: paths, stage: stages[0], source: source(), json: json).run())
        }
        let style = ReportStyle(color: ReportStyle.colorAllowed(isTerminal: isatty(STDOUT_FILENO) == 1),
                                verbose: verbose, timing: timing)
        var verdicts: [StageVerdict] = []
        for stage in stages {
            for kernel in try kernels() {
                let verdict = try lab.check(CheckRequest(stage: stage, kernel: kernel, source: source()))
                progress.clear()
                if !json { print(TextReport(style: style).render(verdict), terminator: "") }
                verdicts.append(verdict)
            }
        }
        if json {
            print(try VerdictRecord.json(verdicts))
        } else if verdicts.count > 1 {
            let failing = verdicts.filter { !$0.isPass }
            print(failing.isEmpty ? "all \(verdicts.count) runs passed"
                  : "\(failing.count) of \(verdicts.count) runs failed: "
                  + failing.map { "\($0.suite.stage.slug) on \($0.kernel.release)" }.joined(separator: ", "))
        }
        if verdicts.contains(where: { !$0.isPass }) { throw ExitCode(1) }
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

// Usage and environment errors exit 2 (ArgumentParser's default is 64).
do {
    var command = try CheckStep.parseAsRoot()
    try command.run()
} catch let error as LabError {
    FileHandle.standardError.write(Data("check-step: \(error)\n".utf8))
    Foundation.exit(2)
} catch {
    let code = CheckStep.exitCode(for: error)
    if code == .success || code == ExitCode(1) || code.rawValue == 2 || error is ExitCode {
        CheckStep.exit(withError: error)
    }
    FileHandle.standardError.write(Data((CheckStep.fullMessage(for: error) + "\n").utf8))
    Foundation.exit(2)
}
