/// The line protocol from the guest agent to the host. The agent writes these
/// lines to the second serial port; the host parses only lines that start
/// with `XTUN` and ignores everything else. Fields are tab-separated; tabs,
/// newlines, carriage returns and backslashes inside a field are escaped.
public enum WireMessage: Sendable, Equatable {
    /// The agent started; guest uptime in seconds.
    case ready(uptime: Double)
    case result(id: String, outcome: Outcome)
    /// The agent is about to provoke what the kernel should not survive;
    /// the host decides `id` from the console (`Evaluator.console`).
    case expectCrash(id: String)
    /// Evidence worth showing with `--verbose`.
    case note(String)
    /// What `--trace` captured: a titled block of text (a function graph, tcpdump's output).
    case trace(title: String, text: String)
    /// One measurement of `--bench`.
    case benchmark(BenchmarkSample)
    /// All checks ran; guest uptime in seconds.
    case done(uptime: Double)

    static let tag = "XTUN"

    /// One line, without the newline.
    public var line: String {
        let fields: [String]
        switch self {
        case .ready(let uptime): fields = ["READY", format(uptime)]
        case .result(let id, .pass(let observed)): fields = ["RESULT", id, "PASS", observed]
        case .result(let id, .fail(let expected, let got)): fields = ["RESULT", id, "FAIL", expected, got]
        case .expectCrash(let id): fields = ["EXPECT-CRASH", id]
        case .note(let text): fields = ["NOTE", text]
        case .trace(let title, let text): fields = ["TRACE", title, text]
        case .benchmark(let sample):
            fields = ["BENCH", sample.name, sample.unit, sample.device, "\(sample.round)", "\(sample.value)", sample.detail]
        case .done(let uptime): fields = ["DONE", format(uptime)]
        }
        return ([WireMessage.tag] + fields.map(WireMessage.escape)).joined(separator: "\t")
    }

    /// Parses one line from the serial port; nil for anything that is not
    /// a well-formed message (kernel noise, a torn line).
    public init?(line raw: Substring) {
        var text = raw
        while let last = text.last, last.isNewline { text = text.dropLast() }
        let fields = text.split(separator: "\t", omittingEmptySubsequences: false)
            .map { WireMessage.unescape($0) }
        guard fields.count >= 2, fields[0] == WireMessage.tag else { return nil }
        switch (fields[1], fields.count) {
        case ("READY", 3):
            guard let uptime = Double(fields[2]) else { return nil }
            self = .ready(uptime: uptime)
        case ("DONE", 3):
            guard let uptime = Double(fields[2]) else { return nil }
            self = .done(uptime: uptime)
        case ("EXPECT-CRASH", 3): self = .expectCrash(id: fields[2])
        case ("NOTE", 3): self = .note(fields[2])
        case ("TRACE", 4): self = .trace(title: fields[2], text: fields[3])
        case ("BENCH", 8):
            guard let round = Int(fields[5]), let value = Double(fields[6]) else { return nil }
            self = .benchmark(BenchmarkSample(name: fields[2], unit: fields[3], device: fields[4], round: round,
                                              value: value, detail: fields[7]))
        case ("RESULT", 5) where fields[3] == "PASS": self = .result(id: fields[2], outcome: .pass(fields[4]))
        case ("RESULT", 6) where fields[3] == "FAIL":
            self = .result(id: fields[2], outcome: .fail(expected: fields[4], got: fields[5]))
        default: return nil
        }
    }

    public init?(line: String) { self.init(line: line[...]) }

    static func escape(_ field: String) -> String {
        var out = ""
        for character in field {
            switch character {
            case "\\": out += "\\\\"
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default: out.append(character)
            }
        }
        return out
    }

    static func unescape(_ field: Substring) -> String {
        var out = ""
        var escaping = false
        for character in field {
            if escaping {
                switch character {
                case "t": out.append("\t")
                case "n": out.append("\n")
                case "r": out.append("\r")
                default: out.append(character)
                }
                escaping = false
            } else if character == "\\" {
                escaping = true
            } else {
                out.append(character)
            }
        }
        return out
    }
}

private func format(_ seconds: Double) -> String {
    let centis = Int(seconds * 100 + 0.5)
    let fraction = centis % 100
    return "\(centis / 100).\(fraction < 10 ? "0" : "")\(fraction)"
}

/// One benchmark's value on one device in one round of `--bench`.
public struct BenchmarkSample: Sendable, Equatable {
    /// `B1`, `B2`, `B3 p50`, `B3 p99`.
    public let name: String
    /// `packets/s` or `µs`.
    public let unit: String
    /// `xtun` or `tun`.
    public let device: String
    public let round: Int
    public let value: Double
    /// What the value was computed from, for the report.
    public let detail: String

    public init(name: String, unit: String, device: String, round: Int, value: Double, detail: String) {
        self.name = name
        self.unit = unit
        self.device = device
        self.round = round
        self.value = value
        self.detail = detail
    }

    /// Whether more is better: throughput is, a latency is not.
    public var higherIsBetter: Bool { unit != "µs" }
}
