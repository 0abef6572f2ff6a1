import Glibc
import XtunChecks

// xtun-agent: runs one stage's checks against a loaded kernel.
//
//   xtun-agent check <stage> <module.ko> --report /dev/ttyS1   (in the VM)
//   xtun-agent check <stage> <module.ko> --host                (check-step --host)
//   xtun-agent load <module.ko>                                (check-step --shell)
//
// In the VM the report goes to the second serial port, where the host reads
// it; on the host to standard output.

func usage() -> Never {
    let text = Array("usage: xtun-agent check <stage> <module.ko> (--report PATH | --host) | load <module.ko>\n".utf8)
    _ = write(STDERR_FILENO, text, text.count)
    exit(2)
}

func openReport(_ path: String?) -> Reporter {
    guard let path else { return Reporter(fd: STDOUT_FILENO) }
    let fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC)
    return Reporter(fd: fd >= 0 ? fd : STDOUT_FILENO)
}

let arguments = CommandLine.arguments
guard arguments.count >= 3 else { usage() }

switch arguments[1] {
case "check":
    guard arguments.count >= 5, let number = Int(arguments[2]), let stage = Stage.numbered(number) else {
        usage()
    }
    let place: Place
    switch arguments[4] {
    case "--host": place = .host
    case "--report" where arguments.count == 6: place = .virtualMachine
    default: usage()
    }
    let reporter = openReport(place == .host ? nil : arguments[5])
    reporter.send(.ready(uptime: Sys.uptime()))
    let settings = KernelSettings.prepare(for: place)
    let session = Session(modulePath: arguments[3], reporter: reporter)
    Runner(suite: Suite.of(stage), session: session, place: place).run()
    settings.restore()
    reporter.send(.done(uptime: Sys.uptime()))
case "load":
    _ = KernelSettings.prepare(for: .virtualMachine)
    let result = ModuleControl(path: arguments[2]).load()
    print("insmod \(arguments[2]): \(result.summary)")
    exit(result.succeeded ? 0 : 1)
default:
    usage()
}
