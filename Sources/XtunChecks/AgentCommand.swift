/// The guest agent's command line, as one typed value: the host renders it
/// (`arguments`) into the initramfs or a `--host` run, and the agent parses
/// it back (`init(arguments:)`). Nothing else assembles these strings.
public enum AgentCommand: Sendable, Equatable {
    /// Run a stage's suite and report each result.
    case check(AgentCheck)
    /// Load the module and exit: the interactive shell's first step. From
    /// stage 06 it also makes the persistent tap xtun (`persistent-tap`).
    case load(module: String, makesTap: Bool = false)
    /// Answer ARP, ping and UDP echo for 10.99.0.2 on /dev/xtun until killed
    /// (stage 05's responder, for the shell).
    case respond
    /// Load the module and measure it against tun (`check-step 5 --bench`).
    case bench(AgentBench)
    /// Run conformance steps on a tun node as another user: the agent's own
    /// child, for the scenarios that need one (`TunScript`).
    case tunScript(AgentTunScript)
    /// One process of stage 06's fuzzer (`fuzz`): seeded random calls on a
    /// tun node, then one summary line.
    case fuzz(AgentFuzz)

    /// What runs after the program name.
    public var arguments: [String] {
        switch self {
        case .check(let check):
            var words = ["check", "--stage", "\(check.stage.number)", "--module", check.module]
            switch check.report {
            case .standardOutput: break
            case .file(let path): words += ["--report", path]
            }
            if check.place == .host { words.append("--host") }
            if check.timeScale != 1 { words += ["--time-scale", "\(check.timeScale)"] }
            if check.debugKernel { words.append("--debug-kernel") }
            if check.trace { words.append("--trace") }
            if let guest = check.guest { words += ["--guest", "\(guest)"] }
            return words
        case .load(let module, let makesTap):
            return ["load", "--module", module] + (makesTap ? ["--tap"] : [])
        case .respond:
            return ["respond"]
        case .bench(let bench):
            var words = ["bench", "--stage", "\(bench.stage.number)", "--module", bench.module, "--rounds", "\(bench.rounds)"]
            if case .file(let path) = bench.report { words += ["--report", path] }
            if bench.timeScale != 1 { words += ["--time-scale", "\(bench.timeScale)"] }
            return words
        case .tunScript(let script):
            return ["tun-script", "--node", script.node, "--uid", "\(script.uid)", "--gid", "\(script.gid)", "--"]
                + script.steps
        case .fuzz(let fuzz):
            var words = ["fuzz", "--seed", "\(fuzz.seed)", "--calls", "\(fuzz.calls)", "--node", fuzz.node]
            if fuzz.uid != 0 { words += ["--uid", "\(fuzz.uid)"] }
            return words
        }
    }

    /// Parses the words after the program name.
    public init(arguments: [String]) throws(AgentCommandError) {
        guard let verb = arguments.first else { throw AgentCommandError("no command") }
        var options = try Options(Array(arguments.dropFirst()))
        switch verb {
        case "check":
            guard let text = options.take("--stage") else { throw AgentCommandError("check needs --stage N") }
            guard let number = Int(text), let stage = Stage.numbered(number), stage.isWritten else {
                throw AgentCommandError("no written stage '\(text)'")
            }
            guard let module = options.take("--module") else { throw AgentCommandError("check needs --module PATH") }
            let report = options.take("--report").map(ReportDestination.file) ?? .standardOutput
            let place: Place = options.takeFlag("--host") ? .host : .virtualMachine
            var scale = 1
            if let text = options.take("--time-scale") {
                guard let value = Int(text), value >= 1 else {
                    throw AgentCommandError("--time-scale wants a whole number of at least 1, not '\(text)'")
                }
                scale = value
            }
            let debugKernel = options.takeFlag("--debug-kernel")
            let trace = options.takeFlag("--trace")
            var guest: Int?
            if let text = options.take("--guest") {
                let guests = Suite.of(stage).guests.count
                guard let value = Int(text), (0..<guests).contains(value) else {
                    throw AgentCommandError("--guest wants 0\(guests > 1 ? "-\(guests - 1)" : ""): stage \(stage.number) "
                                            + "runs in \(guests) guest\(guests == 1 ? "" : "s"), not '\(text)'")
                }
                guest = value
            }
            try options.finish()
            self = .check(AgentCheck(stage: stage, module: module, place: place, report: report, timeScale: scale,
                                     debugKernel: debugKernel, trace: trace, guest: guest))
        case "load":
            guard let module = options.take("--module") else { throw AgentCommandError("load needs --module PATH") }
            let makesTap = options.takeFlag("--tap")
            try options.finish()
            self = .load(module: module, makesTap: makesTap)
        case "respond":
            try options.finish()
            self = .respond
        case "bench":
            guard let text = options.take("--stage"), let number = Int(text), let stage = Stage.numbered(number),
                  stage.isWritten else { throw AgentCommandError("bench needs --stage N, a written stage") }
            guard let module = options.take("--module") else { throw AgentCommandError("bench needs --module PATH") }
            guard let text = options.take("--rounds"), let rounds = Int(text), rounds >= 1 else {
                throw AgentCommandError("bench needs --rounds N, N at least 1")
            }
            let report = options.take("--report").map(ReportDestination.file) ?? .standardOutput
            let scale = options.take("--time-scale").flatMap { Int($0) } ?? 1
            try options.finish()
            self = .bench(AgentBench(stage: stage, module: module, rounds: rounds, report: report, timeScale: scale))
        case "tun-script":
            let separator = arguments.firstIndex(of: "--") ?? arguments.endIndex
            var options = try Options(Array(arguments[1..<separator]))
            guard let node = options.take("--node") else { throw AgentCommandError("tun-script needs --node PATH") }
            guard let uid = options.take("--uid").flatMap({ Int($0) }), let gid = options.take("--gid").flatMap({ Int($0) })
            else { throw AgentCommandError("tun-script needs --uid N and --gid N") }
            try options.finish()
            let steps = separator < arguments.endIndex ? Array(arguments[(separator + 1)...]) : []
            self = .tunScript(AgentTunScript(node: node, uid: uid, gid: gid, steps: steps))
        case "fuzz":
            guard let seed = options.take("--seed").flatMap({ UInt64($0) }) else {
                throw AgentCommandError("fuzz needs --seed N")
            }
            guard let calls = options.take("--calls").flatMap({ Int($0) }), calls >= 1 else {
                throw AgentCommandError("fuzz needs --calls N, N at least 1")
            }
            guard let node = options.take("--node") else { throw AgentCommandError("fuzz needs --node PATH") }
            var uid = 0
            if let text = options.take("--uid") {
                guard let value = Int(text), value >= 0 else { throw AgentCommandError("--uid wants a user id, not '\(text)'") }
                uid = value
            }
            try options.finish()
            self = .fuzz(AgentFuzz(seed: seed, calls: calls, node: node, uid: uid))
        default:
            throw AgentCommandError("unknown command '\(verb)'")
        }
    }

    public static let usage = """
        usage: xtun-agent check --stage N --module PATH [--report PATH] [--host] [--time-scale K] [--debug-kernel] [--trace]
                              [--guest N]
               xtun-agent load --module PATH [--tap]
               xtun-agent respond
               xtun-agent bench --stage N --module PATH --rounds N [--report PATH] [--time-scale K]
               xtun-agent tun-script --node PATH --uid N --gid N -- STEP...
               xtun-agent fuzz --seed N --calls N --node PATH [--uid N]
        """
}

/// One `check` run of the agent.
public struct AgentCheck: Sendable, Equatable {
    public var stage: Stage
    /// The xtun.ko to load.
    public var module: String
    public var place: Place
    /// Where the wire messages go: the VM's second serial port, or stdout.
    public var report: ReportDestination
    /// Every deadline in the run is this many times longer: for a kernel
    /// that runs slower (the debug kernel).
    public var timeScale: Int
    /// Whether the kernel is the lab's debug kernel: what needs it runs.
    public var debugKernel: Bool
    /// After the checks, trace the driver's TX and RX paths (`check-step --trace`).
    public var trace: Bool
    /// Which of the suite's guests this is (`Suite.guests`), when the host
    /// boots several at once; nil runs the whole suite (one guest, `--host`).
    public var guest: Int?

    public init(stage: Stage, module: String, place: Place = .virtualMachine,
                report: ReportDestination = .standardOutput, timeScale: Int = 1, debugKernel: Bool = false,
                trace: Bool = false, guest: Int? = nil) {
        self.stage = stage
        self.module = module
        self.place = place
        self.report = report
        self.timeScale = timeScale
        self.debugKernel = debugKernel
        self.trace = trace
        self.guest = guest
    }
}

/// One `bench` run of the agent.
public struct AgentBench: Sendable, Equatable {
    /// The stage whose module it is: from stage 06 the devices are made with
    /// TUNSETIFF, and B4 (the forwarder) runs.
    public var stage: Stage
    public var module: String
    /// Rounds of B1-B3 on each device, alternating which goes first.
    public var rounds: Int
    public var report: ReportDestination
    public var timeScale: Int

    public init(stage: Stage, module: String, rounds: Int, report: ReportDestination = .standardOutput,
                timeScale: Int = 1) {
        self.stage = stage
        self.module = module
        self.rounds = rounds
        self.report = report
        self.timeScale = timeScale
    }
}

/// Conformance steps for another user (`tun-script`).
public struct AgentTunScript: Sendable, Equatable {
    /// /dev/net/tun or /dev/xtun.
    public var node: String
    public var uid: Int
    public var gid: Int
    /// One `TunScript` step per word.
    public var steps: [String]

    public init(node: String, uid: Int, gid: Int, steps: [String]) {
        self.node = node
        self.uid = uid
        self.gid = gid
        self.steps = steps
    }
}

/// One fuzzing process (`fuzz`): the same seed makes the same calls.
public struct AgentFuzz: Sendable, Equatable {
    public var seed: UInt64
    /// How many calls it makes before it prints its summary and exits.
    public var calls: Int
    /// /dev/xtun (or /dev/net/tun, to fuzz tun.ko by hand).
    public var node: String
    /// Not 0: it becomes this user (and group) first, without capabilities.
    public var uid: Int

    public init(seed: UInt64, calls: Int, node: String, uid: Int = 0) {
        self.seed = seed
        self.calls = calls
        self.node = node
        self.uid = uid
    }
}

public enum ReportDestination: Sendable, Equatable {
    case standardOutput
    case file(String)
}

/// A command line the agent does not understand.
public struct AgentCommandError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// `--name value` pairs and `--flag`s, each at most once.
private struct Options {
    var words: [String]

    init(_ words: [String]) throws(AgentCommandError) {
        self.words = words
        let names = words.filter { $0.hasPrefix("--") }
        if let repeated = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
            throw AgentCommandError("\(repeated) given twice")
        }
    }

    mutating func take(_ name: String) -> String? {
        guard let index = words.firstIndex(of: name), index + 1 < words.count else { return nil }
        let value = words[index + 1]
        words.removeSubrange(index...(index + 1))
        return value
    }

    mutating func takeFlag(_ name: String) -> Bool {
        guard let index = words.firstIndex(of: name) else { return false }
        words.remove(at: index)
        return true
    }

    func finish() throws(AgentCommandError) {
        if let extra = words.first { throw AgentCommandError("unexpected '\(extra)'") }
    }
}
