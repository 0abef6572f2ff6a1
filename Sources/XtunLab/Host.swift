import Foundation
import XtunChecks

/// The user's own running kernel (`check-step --host`): the same agent,
/// run directly. It refuses, with every reason, unless it can work.
public struct HostMachine: Sendable {
    public init() {}

    public static var release: String {
        var name = utsname()
        uname(&name)
        return withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    /// Why the running kernel cannot be used; empty when it can.
    public static func refusals(release: String = HostMachine.release) -> [String] {
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

    /// The running kernel, or the reasons it cannot be used.
    func kernel() throws -> ProvisionedKernel {
        let reasons = HostMachine.refusals()
        guard reasons.isEmpty else {
            throw LabError.environment("--host refused: " + reasons.joined(separator: "; ")
                + ". Without --host the checks run in a VM.")
        }
        let release = HostMachine.release
        return ProvisionedKernel(release: release, version: "running", vmlinuz: "",
                                 headers: "/lib/modules/\(release)/build", packages: [])
    }

    /// Runs the agent on this machine and collects its report.
    func run(agent: URL, command: AgentCommand) throws -> GuestRun {
        let started = Date()
        let output = try Shell.run([agent.path] + command.arguments)
        let messages = output.output.split(separator: "\n").compactMap { WireMessage(line: $0) }
            .map { TimedMessage(message: $0, at: Date().timeIntervalSince(started)) }
        return GuestRun(messages: messages, console: "", timedOut: false, exitStatus: output.status,
                        duration: Date().timeIntervalSince(started))
    }
}
