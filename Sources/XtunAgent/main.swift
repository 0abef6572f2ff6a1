import Glibc
import XtunChecks
import XtunPackets

// xtun-agent: runs one stage's checks against a loaded kernel. Its command
// line is `AgentCommand` (XtunChecks), which the host renders; see `usage`.
// In the VM the report goes to the second serial port, where the host reads
// it; with --host to standard output.

func fail(_ message: String) -> Never {
    let text = Array("xtun-agent: \(message)\n\(AgentCommand.usage)\n".utf8)
    _ = write(STDERR_FILENO, text, text.count)
    exit(ExitStatus.usage.rawValue)
}

let command: AgentCommand
do {
    command = try AgentCommand(arguments: Array(CommandLine.arguments.dropFirst()))
} catch {
    fail(error.message)
}

switch command {
case .check(let check):
    let reporter = Reporter(check.report)
    reporter.send(.ready(uptime: Sys.uptime()))
    let settings = KernelSettings.prepare(for: check.place)
    let session = Session(modulePath: check.module, reporter: reporter, stage: check.stage,
                          timeScale: Double(check.timeScale))
    let (runnable, _) = Suite.of(check.stage).runnable(at: check.place, debugKernel: check.debugKernel)
    let suite = runnable.guest(check.guest)
    let passed = Runner(suite: suite, session: session).run()
    if check.trace { DriverTrace.run(session, place: check.place, debugKernel: check.debugKernel) }
    settings.restore()
    reporter.send(.done(uptime: Sys.uptime()))
    exit((passed ? ExitStatus.success : .failure).rawValue)
case .load(let module, let makesTap):
    _ = KernelSettings.prepare(for: .virtualMachine)
    var control = ModuleControl(path: module)
    control.makesTap = makesTap
    let result = control.load()
    print("insmod \(module)\(makesTap ? " and a persistent tap xtun" : ""): \(result.summary)")
    exit((result.succeeded ? ExitStatus.success : .failure).rawValue)
case .bench(let bench):
    let reporter = Reporter(bench.report)
    reporter.send(.ready(uptime: Sys.uptime()))
    _ = KernelSettings.prepare(for: .virtualMachine)
    let session = Session(modulePath: bench.module, reporter: reporter, stage: bench.stage,
                          timeScale: Double(bench.timeScale))
    Bench(session: session, rounds: bench.rounds).run()
    reporter.send(.done(uptime: Sys.uptime()))
    exit(ExitStatus.success.rawValue)
case .tunScript(let script):
    exit(TunScript.runChild(script))
case .fuzz(let fuzz):
    exit(Fuzzer.runChild(fuzz))
case .respond:
    // From stage 06 /dev/xtun frames flow once a file attaches to the tap xtun.
    let kind: FrameDevice.Kind = Sys.exists("/sys/class/net/\(DriverNames.interface)/tun_flags") ? .xtunTap : .xtun
    let device: FrameDevice
    switch FrameDevice.open(kind) {
    case .success(let opened): device = opened
    case .failure(let error): fail("cannot open \(DriverNames.characterDevice): \(error)")
    }
    let responder = Responder()
    print("answering ARP, ping and UDP echo (port \(responder.echoPort)) for \(responder.address) "
        + "at \(responder.mac) on \(DriverNames.characterDevice); Ctrl-C stops")
    // Flushed line by line, even into a file: it runs until killed.
    fflush(nil)
    _ = ResponderLoop(device: device, responder: responder).run { line in
        print(line)
        fflush(nil)
    }
}
