import Glibc
import XtunChecks

/// The conformance table: scenarios of tun's control interface, each a few
/// `TunScript` steps, run in one boot against tun.ko's /dev/net/tun and
/// against /dev/xtun. `tun` is what tun.ko answers, line by line, on 6.1 and
/// 6.12 alike: a scenario whose tun.ko lines change no longer tests what it
/// says and fails. xtun must give the same lines, except where a scenario
/// documents a deliberate difference (book/06-ctl.md#differences).
struct Scenario: Sendable {
    let name: String
    let steps: [String]
    let tun: [String]
    /// What 6.1's tun.ko answers where it differs from 6.12's (`tun`).
    var tun61: [String]?
    /// xtun's lines where they differ on purpose, and why.
    var xtun: [String]?
    var why: String?

    init(_ name: String, _ steps: [String], tun: [String], tun61: [String]? = nil, xtun: [String]? = nil,
         why: String? = nil) {
        self.name = name
        self.steps = steps
        self.tun = tun
        self.tun61 = tun61
        self.xtun = xtun
        self.why = why
    }

    /// tun.ko's lines on the running kernel.
    func tun(onRelease release: String) -> [String] {
        release.hasPrefix("6.1.") ? tun61 ?? tun : tun
    }

    /// xtun's lines, on every kernel: tun.ko's from 6.12 unless documented.
    var xtunLines: [String] { xtun ?? tun }

    /// Whether xtun differs from tun.ko on this kernel, on purpose.
    func differs(onRelease release: String) -> Bool { xtunLines != tun(onRelease: release) }
}

/// What one scenario gave on one node.
struct ScenarioRun {
    let lines: [String]

    /// Runs `scenario` on `node` and cleans up after it: its files closed,
    /// the interfaces it left deleted.
    init(_ scenario: Scenario, node: String) {
        var script = TunScript(node: node)
        lines = scenario.steps.flatMap { script.run($0).split(separator: "\n").map(String.init) }
        script.finish()
        Conformance.deleteLeftovers()
    }
}

enum Conformance {
    /// Interfaces scenarios create: ct0, ct1, and the default names.
    static func isScenarioInterface(_ name: String) -> Bool {
        let prefixes = ["ct", "tap", "tun", "xtap", "xtun"]
        return prefixes.contains { prefix in
            name.hasPrefix(prefix) && !name.dropFirst(prefix.count).isEmpty
                && name.dropFirst(prefix.count).allSatisfy(\.isNumber)
        }
    }

    static func deleteLeftovers() {
        for name in Sys.list("/sys/class/net") ?? [] where isScenarioInterface(name) {
            _ = Command.run(["ip", "link", "del", name])
        }
        _ = Sys.wait(seconds: 5) { !(Sys.list("/sys/class/net") ?? []).contains(where: isScenarioInterface) }
    }

    /// The table's outcome: which scenarios differ, and how.
    struct Verdict {
        var identical = 0
        var documented = 0
        var problems: [String] = []
    }

    /// Debian's udev makes /dev/net/tun crw-rw-rw- (50-udev-default.rules:
    /// `KERNEL=="tun", MODE="0666"`); the lab's guest has no udev.
    static func openTunToEveryone() {
        _ = chmod(TunNode.tun, 0o666)
    }

    static func run(_ scenarios: [Scenario] = table) -> Verdict {
        var verdict = Verdict()
        openTunToEveryone()
        deleteLeftovers()
        for scenario in scenarios {
            let tun = ScenarioRun(scenario, node: TunNode.tun).lines
            let xtun = ScenarioRun(scenario, node: DriverNames.characterDevice).lines
            if scenario.tun.isEmpty {
                // A scenario being written: show both, to be put in the table.
                verdict.problems.append("\(scenario.name): no lines in the table yet; tun.ko:\n"
                    + tun.map { "  \($0)" }.joined(separator: "\n") + "\nxtun:\n"
                    + xtun.map { "  \($0)" }.joined(separator: "\n"))
                continue
            }
            let release = Sys.release
            if tun != scenario.tun(onRelease: release) {
                verdict.problems.append("\(scenario.name): tun.ko no longer gives the table's lines:\n"
                    + difference(expected: scenario.tun(onRelease: release), got: tun))
                continue
            }
            let documented = scenario.differs(onRelease: release)
            if xtun != scenario.xtunLines {
                verdict.problems.append("\(scenario.name): xtun differs from "
                    + (documented ? "the documented difference" : "tun.ko") + ":\n"
                    + difference(expected: scenario.xtunLines, got: xtun))
            } else if documented {
                verdict.documented += 1
            } else {
                verdict.identical += 1
            }
        }
        return verdict
    }

    /// The lines that differ, as `- expected` / `+ got` pairs.
    static func difference(expected: [String], got: [String]) -> String {
        var out: [String] = []
        for index in 0..<max(expected.count, got.count) {
            let want = index < expected.count ? expected[index] : "(nothing)"
            let have = index < got.count ? got[index] : "(nothing)"
            if want != have { out += ["  - \(want)", "  + \(have)"] }
        }
        return out.joined(separator: "\n")
    }
}
