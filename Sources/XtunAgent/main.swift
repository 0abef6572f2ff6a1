import Glibc
import XtunChecks

// xtun-agent: runs one stage's checks against a loaded kernel.
//
//   xtun-agent check <stage> <module.ko> [report-path]
//   xtun-agent load <module.ko>
//
// In the VM the report goes to /dev/ttyS1 (the host reads it); on the host
// (check-step --host) to standard output.

func usage() -> Never {
    let text = Array("usage: xtun-agent check <stage> <module.ko> [report-path] | load <module.ko>\n".utf8)
    _ = write(STDERR_FILENO, text, text.count)
    exit(2)
}

func openReport(_ path: String?) -> Reporter {
    guard let path else { return Reporter(fd: STDOUT_FILENO) }
    let fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC)
    return Reporter(fd: fd >= 0 ? fd : STDOUT_FILENO)
}

/// Quiet defaults for every run: the kernel log on the console, and no
/// IPv6 chatter on new interfaces unless a check turns it on.
func prepareKernel() {
    try? Sys.write("8", to: "/proc/sys/kernel/printk")
    try? Sys.write("1", to: "/proc/sys/net/ipv6/conf/default/disable_ipv6")
}

let arguments = CommandLine.arguments
guard arguments.count >= 3 else { usage() }

switch arguments[1] {
case "check":
    guard arguments.count >= 4, let number = Int(arguments[2]), let stage = Stage.numbered(number) else {
        usage()
    }
    let reporter = openReport(arguments.count > 4 ? arguments[4] : nil)
    reporter.send(.ready(uptime: Sys.uptime()))
    prepareKernel()
    let session = Session(modulePath: arguments[3], reporter: reporter)
    Runner(suite: Suite.of(stage), session: session).run()
    reporter.send(.done(uptime: Sys.uptime()))
case "load":
    prepareKernel()
    let result = ModuleControl(path: arguments[2]).load()
    print("insmod \(arguments[2]): \(result.summary)")
    exit(result.succeeded ? 0 : 1)
default:
    usage()
}
