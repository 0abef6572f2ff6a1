import Foundation
import XtunChecks

/// What one `--bench` boot measured, summarised per benchmark and device.
public struct BenchResult: Sendable {
    public let kernel: ProvisionedKernel
    public let source: String
    public let rounds: Int
    public let samples: [BenchmarkSample]
    /// What the agent said went wrong, if anything did.
    public let notes: [String]

    /// One benchmark: each device's median and range over the rounds, and
    /// the ratio of medians, oriented so that above 1 means xtun did better.
    public struct Summary: Sendable, Equatable {
        public let name: String
        public let unit: String
        public let xtun: [Double]
        public let tun: [Double]
        /// What each device's first round counted (frames delivered, drops).
        public var details: (xtun: String, tun: String) = ("", "")

        public static func == (lhs: Summary, rhs: Summary) -> Bool {
            lhs.name == rhs.name && lhs.unit == rhs.unit && lhs.xtun == rhs.xtun && lhs.tun == rhs.tun
        }

        public var xtunMedian: Double { BenchResult.median(xtun) }
        public var tunMedian: Double { BenchResult.median(tun) }
        public var higherIsBetter: Bool { unit != "µs" }
        public var ratio: Double {
            guard xtunMedian > 0, tunMedian > 0 else { return 0 }
            return higherIsBetter ? xtunMedian / tunMedian : tunMedian / xtunMedian
        }
    }

    /// In the order the agent first reported them.
    public var summaries: [Summary] {
        var names: [String] = []
        for sample in samples where !names.contains(sample.name) { names.append(sample.name) }
        return names.map { name in
            let of = samples.filter { $0.name == name }
            var summary = Summary(name: name, unit: of[0].unit, xtun: of.filter { $0.device == "xtun" }.map(\.value),
                                  tun: of.filter { $0.device == "tun" }.map(\.value))
            summary.details = (of.first { $0.device == "xtun" }?.detail ?? "", of.first { $0.device == "tun" }?.detail ?? "")
            return summary
        }
    }

    /// Complete: every benchmark has a value per round on each device.
    public var isComplete: Bool {
        !samples.isEmpty && summaries.allSatisfy { $0.xtun.count == rounds && $0.tun.count == rounds }
    }

    static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}

extension Lab {
    /// Boots `request`'s kernel once with its module and tun.ko, and runs
    /// the benchmarks against both (`check-step 5 --bench`).
    public func bench(_ request: CheckRequest, rounds: Int) throws -> BenchResult {
        guard case .virtualMachine = request.machine else { throw LabError.usage("--bench runs in the VM") }
        let kernel = try kernel(for: request.machine)
        let source = try moduleSource(for: request)
        progress("[\(request.stage.slug)] building \(source.label) for \(kernel.release)")
        let module = try ModuleBuilder(work: paths.work).build(source, against: kernel)
        let agent = try AgentBuilder(paths: paths).build()
        let slowdown = request.machine.kernel?.slowdown ?? 1
        let command = AgentCommand.bench(AgentBench(stage: request.stage, module: InitramfsBuilder.guestModule, rounds: rounds,
                                                    report: .file(VirtualMachine.reportPort), timeScale: slowdown))
        let initramfs = try InitramfsBuilder(work: paths.work)
            .build(agent: agent, module: module.module, programs: module.programs, task: .check(command),
                   name: Lab.runName("bench-\(kernel.release)"),
                   kernelModules: try GuestModules(kernel: kernel).resolve(HostShare.modules + ["tun"]))
        defer { try? FileManager.default.removeItem(at: initramfs.deletingLastPathComponent()) }
        var machine = VirtualMachine(kernel: kernel, accelerator: accelerator)
        machine.sharesHostRoot = true
        machine.timeout = (120 + 90 * Double(rounds)) * Double(slowdown)
        progress("[\(request.stage.slug)] benchmarking xtun and tun in Linux \(kernel.release), \(rounds) rounds")
        let run = try machine.run(initramfs: initramfs,
                                  consoleLog: initramfs.deletingLastPathComponent().appendingPathComponent("console.log"))
        let samples = run.messages.compactMap { if case .benchmark(let sample) = $0.message { sample } else { nil } }
        var notes = run.messages.compactMap { if case .note(let text) = $0.message { text } else { nil } }
        if !run.finished { notes.append(run.timedOut ? "the guest ran out of time" : "the guest stopped before the end") }
        return BenchResult(kernel: kernel, source: source.label, rounds: rounds, samples: samples, notes: notes)
    }
}

/// `--bench` for people: one line per benchmark.
public struct BenchReport: Sendable {
    public init() {}

    static func number(_ value: Double) -> String {
        value >= 100 ? String(Int(value.rounded())) : String(format: "%.1f", value)
    }

    public func render(_ result: BenchResult, stage: Stage) -> String {
        let tag = "[\(stage.slug)]"
        var lines = ["\(tag) bench: \(result.source) against tun.ko in Linux \(result.kernel.release) "
            + "(Debian \(result.kernel.version)), \(result.rounds) rounds alternating the devices; medians, min–max"]
        for summary in result.summaries {
            let range = { (values: [Double]) in
                "\(BenchReport.number(values.min() ?? 0))–\(BenchReport.number(values.max() ?? 0))"
            }
            lines.append("\(tag) \(summary.name.padding(toLength: 7, withPad: " ", startingAt: 0)) "
                + "xtun \(BenchReport.number(summary.xtunMedian)) \(summary.unit) (\(range(summary.xtun))), "
                + "tun \(BenchReport.number(summary.tunMedian)) \(summary.unit) (\(range(summary.tun))), "
                + "xtun/tun \(String(format: "%.2f", summary.ratio))")
            if !summary.name.hasSuffix("p99") {
                lines.append("\(tag)         first round: xtun \(summary.details.xtun); tun \(summary.details.tun)")
            }
        }
        lines += result.notes.map { "\(tag) note: \($0)" }
        let forwarded = result.summaries.contains { $0.name == "B4" }
            ? " B4: 8 MiB over TCP through a userspace forwarder between two TUN devices in two network namespaces." : ""
        lines.append("\(tag) B1 inject: 64-byte frames written, delivered to a UDP socket; B2 extract: 64-byte "
            + "frames sent, read from the device; B3: ping through the responder.\(forwarded) A ratio above 1 means xtun did better.")
        return lines.joined(separator: "\n") + "\n"
    }

    /// `--bench --json`: one object; `benchmarks` holds name, unit, xtun, tun and ratio per benchmark.
    public func json(_ result: BenchResult, stage: Stage) throws -> String {
        struct Record: Codable {
            let name: String
            let unit: String
            let xtun: Double
            let tun: Double
            let ratio: Double
            let xtunRange: [Double]
            let tunRange: [Double]
        }
        struct Document: Codable {
            let stage: String
            let kernel: String
            let source: String
            let rounds: Int
            let benchmarks: [Record]
            let notes: [String]
        }
        let document = Document(
            stage: stage.slug, kernel: result.kernel.release, source: result.source, rounds: result.rounds,
            benchmarks: result.summaries.map {
                Record(name: $0.name, unit: $0.unit, xtun: $0.xtunMedian, tun: $0.tunMedian, ratio: $0.ratio,
                       xtunRange: [$0.xtun.min() ?? 0, $0.xtun.max() ?? 0], tunRange: [$0.tun.min() ?? 0, $0.tun.max() ?? 0])
            },
            notes: result.notes)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(document), as: UTF8.self)
    }
}
