import Foundation
import XtunChecks

/// How the kernel under test runs: QEMU with KVM or TCG, or the host itself (--host).
public enum Accelerator: String, Sendable {
    case kvm, tcg, host

    /// KVM only when it can work: /dev/kvm exists and the CPU advertises
    /// vmx or svm. `XTUN_ACCEL=tcg|kvm` overrides.
    public static func detect(environment: [String: String] = ProcessInfo.processInfo.environment) -> Accelerator {
        if let forced = environment["XTUN_ACCEL"].flatMap(Accelerator.init(rawValue:)) { return forced }
        guard FileManager.default.fileExists(atPath: "/dev/kvm"),
              let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return .tcg }
        let flags = cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") } ?? ""
        let words = Set(flags.split(separator: " "))
        return words.contains("vmx") || words.contains("svm") ? .kvm : .tcg
    }
}

/// A message from the agent and when the host saw it.
public struct TimedMessage: Sendable {
    public let message: WireMessage
    /// Seconds since QEMU started.
    public let at: Double
}

/// Everything one boot produced.
public struct GuestRun: Sendable {
    public let messages: [TimedMessage]
    public let console: String
    public let timedOut: Bool
    public let exitStatus: Int32
    /// Wall time from QEMU start to exit.
    public let duration: Double
    /// How long each reported check took: from the message before its result to the result.
    public let checkTimes: [CheckTime]
    /// Each guest's time from READY to power-off, when several guests ran at
    /// once (`combined`); empty for one guest.
    public var guestChecks: [Double] = []

    public init(messages: [TimedMessage], console: String, timedOut: Bool, exitStatus: Int32, duration: Double,
                checkTimes: [CheckTime]? = nil) {
        self.messages = messages
        self.console = console
        self.timedOut = timedOut
        self.exitStatus = exitStatus
        self.duration = duration
        self.checkTimes = checkTimes ?? Self.times(of: messages)
    }

    public var readyAt: Double? { messages.first { if case .ready = $0.message { true } else { false } }?.at }
    public var doneAt: Double? { messages.first { if case .done = $0.message { true } else { false } }?.at }
    public var finished: Bool { doneAt != nil }

    static func times(of messages: [TimedMessage]) -> [CheckTime] {
        var times: [CheckTime] = []
        var previous: Double?
        for timed in messages {
            if case .result(let id, _) = timed.message, let previous {
                times.append(CheckTime(id: id, seconds: timed.at - previous))
            }
            previous = timed.at
        }
        return times
    }
    /// A failure the agent reported for `id` (a pass it cannot report for what the host judges).
    public func reportedFailure(_ id: String) -> Outcome? {
        messages.lazy.compactMap { timed -> Outcome? in
            if case .result(id, let outcome) = timed.message, outcome.isFail { return outcome }
            return nil
        }.first
    }

    /// The expectation the agent said it would provoke a crash for, if it did.
    public var announcedCrash: String? {
        messages.lazy.compactMap { if case .expectCrash(let id) = $0.message { id } else { nil } }.first
    }
    public var consoleLog: KernelLog { KernelLog(console) }
    /// What the agent's `--trace` captured, in order.
    public var traces: [GuestTrace] {
        messages.compactMap { if case .trace(let title, let text) = $0.message { GuestTrace(title: title, text: text) } else { nil } }
    }
    public var panicked: Bool { console.contains("Kernel panic - not syncing") }
}

/// Boots a kernel with an initramfs under QEMU. The agent's messages arrive
/// on the second serial port (QEMU's stdout); the console (kernel log)
/// goes to a file.
public struct VirtualMachine: Sendable {
    public let kernel: ProvisionedKernel
    public let accelerator: Accelerator
    public var memoryMiB = 1024
    public var cpus = 2
    /// Hard limit for one boot; the guest is killed after it.
    public var timeout: Double = 240
    /// Share the host's root read-only over 9p (`HostShare`).
    public var sharesHostRoot = false

    /// The guest's second serial port, where the agent reports (QEMU's stdout).
    public static let reportPort = "/dev/ttyS1"

    /// Quiet boot; a panic reboots at once, which -no-reboot turns into an
    /// exit; slub_debug=U records who allocated every live slab object, for
    /// the leak check (SLUB_DEBUG is built into Debian's kernels, off until asked);
    /// acpi=noirq: ACPI's routing of the virtio device's legacy interrupt
    /// (its AML interpreted under TCG) took 1.8 s of every boot that loads
    /// virtio_pci for the host share.
    static let commandLine = "console=ttyS0 quiet panic=-1 rdinit=/init slub_debug=U acpi=noirq"

    public init(kernel: ProvisionedKernel, accelerator: Accelerator) {
        self.kernel = kernel
        self.accelerator = accelerator
    }

    func arguments(initramfs: URL, console: [String], results: [String]) -> [String] {
        ["qemu-system-x86_64", "-accel", accelerator == .tcg ? "tcg,thread=single" : accelerator.rawValue, "-m", "\(memoryMiB)", "-smp", "\(cpus)",
         "-nodefaults", "-no-reboot", "-display", "none", "-monitor", "none",
         "-kernel", BootImage(kernel: kernel).path(), "-initrd", initramfs.path,
         "-append", VirtualMachine.commandLine]
            + (sharesHostRoot ? HostShare.qemuArguments : [])
            + console + results
    }

    /// Boots, streams the agent's messages to `onMessage`, and returns when
    /// the guest powers off, crashes or times out.
    public func run(initramfs: URL, consoleLog: URL,
                    onMessage: (TimedMessage) -> Void = { _ in }) throws -> GuestRun {
        guard let qemu = Shell.which("qemu-system-x86_64") else {
            throw LabError.environment("qemu-system-x86_64 is missing: install qemu-system-x86 (./setup)")
        }
        try? FileManager.default.removeItem(at: consoleLog)
        let argv = arguments(initramfs: initramfs,
                             console: ["-serial", "file:\(consoleLog.path)"],
                             results: ["-serial", "stdio"])
        let started = Date()
        // Its own process group: a Ctrl-C at the terminal goes to check-step
        // alone, which kills and reaps QEMU and exits 130 (GuestProcesses);
        // a QEMU that got the SIGINT too could die first and the run end as FAIL.
        let child = try Spawned.start([qemu] + argv.dropFirst(), ownProcessGroup: true)
        GuestProcesses.shared.started(child.pid)
        defer { GuestProcesses.shared.ended(child.pid) }

        var messages: [TimedMessage] = []
        var pending = Data()
        guard let fd = child.output else { preconditionFailure("QEMU's output is captured") }
        defer { close(fd) }
        var timedOut = false
        var buffer = [UInt8](repeating: 0, count: 8192)
        while true {
            let remaining = timeout - Date().timeIntervalSince(started)
            if remaining <= 0 {
                timedOut = true
                kill(child.pid, SIGKILL)
                break
            }
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(min(remaining, 1) * 1000))
            if ready <= 0 { continue }
            let count = read(fd, &buffer, buffer.count)
            if count <= 0 { break }
            pending.append(contentsOf: buffer[0..<count])
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                pending.removeSubrange(pending.startIndex...newline)
                if let message = WireMessage(line: line) {
                    let timed = TimedMessage(message: message, at: Date().timeIntervalSince(started))
                    messages.append(timed)
                    onMessage(timed)
                }
            }
        }
        let exitStatus = child.wait()
        let console = (try? String(contentsOf: consoleLog, encoding: .utf8)) ?? ""
        return GuestRun(messages: messages, console: console.replacingOccurrences(of: "\r", with: ""),
                        timedOut: timedOut, exitStatus: exitStatus,
                        duration: Date().timeIntervalSince(started))
    }

    /// Boots with the guest's console on this terminal (`check-step shell`).
    /// QEMU stays in this process's group, the terminal's foreground group,
    /// so it can read the keyboard; `signal=off` passes Ctrl-C to the guest
    /// as a character, where the guest's tty turns it into SIGINT for the
    /// guest's foreground program. `exit` in the guest powers it off; Ctrl-A x
    /// quits QEMU. The terminal's settings are put back however QEMU ends.
    public func runInteractive(initramfs: URL) throws -> Int32 {
        guard let qemu = Shell.which("qemu-system-x86_64") else {
            throw LabError.environment("qemu-system-x86_64 is missing: install qemu-system-x86 (./setup does)")
        }
        let argv = arguments(initramfs: initramfs,
                             console: ["-chardev", "stdio,id=console,mux=on,signal=off", "-serial", "chardev:console"],
                             results: ["-serial", "null"])
        let terminal = TerminalSettings.save()
        defer { terminal?.restore() }
        let child = try Spawned.start([qemu] + argv.dropFirst(), streams: .inherited)
        GuestProcesses.shared.started(child.pid)
        defer { GuestProcesses.shared.ended(child.pid) }
        return child.wait()
    }
}

/// The terminal's settings, to put back after a program that changed them
/// (QEMU puts stdin in raw mode) ended without restoring them.
public struct TerminalSettings: @unchecked Sendable {
    let saved: termios

    public static func save() -> TerminalSettings? {
        guard isatty(STDIN_FILENO) == 1 else { return nil }
        var settings = termios()
        return tcgetattr(STDIN_FILENO, &settings) == 0 ? TerminalSettings(saved: settings) : nil
    }

    public func restore() {
        var settings = saved
        tcsetattr(STDIN_FILENO, TCSANOW, &settings)
    }
}
