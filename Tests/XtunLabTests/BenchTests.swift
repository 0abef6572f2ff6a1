import Foundation
import Testing
import XtunChecks
@testable import XtunLab

@Suite("Benchmarks against tun")
struct BenchTests {
    static func sample(_ name: String, _ unit: String, _ device: String, _ round: Int, _ value: Double) -> BenchmarkSample {
        BenchmarkSample(name: name, unit: unit, device: device, round: round, value: value, detail: "")
    }

    @Test func aRatioAboveOneMeansXtunDidBetter() {
        let throughput = BenchResult.Summary(name: "B1", unit: "packets/s", xtun: [300, 100, 200], tun: [100, 100])
        #expect(throughput.xtunMedian == 200 && throughput.tunMedian == 100 && throughput.ratio == 2)
        let latency = BenchResult.Summary(name: "B3 p50", unit: "µs", xtun: [50], tun: [100])
        #expect(latency.ratio == 2)
    }

    @Test func summariesKeepTheAgentsOrderAndCountRounds() throws {
        let samples = [Self.sample("B1", "packets/s", "xtun", 0, 10), Self.sample("B1", "packets/s", "tun", 0, 20),
                       Self.sample("B3 p50", "µs", "tun", 0, 5), Self.sample("B3 p50", "µs", "xtun", 0, 10)]
        let kernel = ProvisionedKernel(release: "6.1.0-57-amd64", version: "6.1.192-3", vmlinuz: "/k", headers: "/h",
                                       packages: [])
        let result = BenchResult(kernel: kernel, source: "steps/05-test", rounds: 1, samples: samples, notes: [])
        #expect(result.summaries.map(\.name) == ["B1", "B3 p50"])
        #expect(result.isComplete)
        #expect(result.summaries.map(\.ratio) == [0.5, 0.5])
        let json = try BenchReport().json(result, stage: .stage05)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let benchmarks = try #require(object["benchmarks"] as? [[String: Any]])
        #expect(benchmarks.map { $0["name"] as? String } == ["B1", "B3 p50"])
        for key in ["name", "unit", "xtun", "tun", "ratio"] { #expect(benchmarks[0][key] != nil, "\(key)") }
        #expect(!BenchResult(kernel: kernel, source: "", rounds: 2, samples: samples, notes: []).isComplete)
    }

    /// One real run: `check-step N --bench --rounds 1 --json` on 6.1; stage
    /// 06 adds B4, the forwarder, and runs B1-B3 on its persistent tap.
    @Test(arguments: [(5, ["B1", "B2", "B3 p50", "B3 p99"]), (6, ["B1", "B2", "B3 p50", "B3 p99", "B4"])])
    func theBenchRunsBothDevicesInOneBoot(stage: Int, names: [String]) throws {
        let output = try Shell.run([CommandLineTests.binary.path, "\(stage)", "--bench", "--rounds", "1", "--json"],
                                   in: labPaths.root)
        #expect(output.status == 0, "\(output.output)")
        let start = try #require(output.output.firstIndex(of: "{"), "\(output.output)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(output.output[start...].utf8))
                                      as? [String: Any], "\(output.output)")
        let benchmarks = try #require(object["benchmarks"] as? [[String: Any]])
        #expect(benchmarks.map { $0["name"] as? String } == names, "\(output.output)")
        for benchmark in benchmarks {
            #expect(((benchmark["ratio"] as? Double) ?? 0) > 0, "\(benchmark)")
        }
    }
}
