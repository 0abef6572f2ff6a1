import Foundation
import Testing
import XtunChecks
@testable import XtunLab

/// The package under test.
let labPaths: LabPaths = {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    return LabPaths(root: root, cache: LabPaths.defaultCache(environment: ProcessInfo.processInfo.environment))
}()

/// VM runs are slow, so each request runs once per test process and is
/// shared by every test that needs it; the lock also keeps VMs one at a time.
final class RunCache: @unchecked Sendable {
    static let shared = RunCache()
    private let lock = NSLock()
    private var verdicts: [String: StageVerdict] = [:]

    func verdict(_ request: CheckRequest) throws -> StageVerdict {
        try lock.withLock {
            let key = RunCache.key(request)
            if let verdict = verdicts[key] { return verdict }
            let verdict = try Lab(paths: labPaths).check(request)
            verdicts[key] = verdict
            return verdict
        }
    }

    /// Runs `body` while no cached run is booting (VM runs share work directories).
    func exclusive<T>(_ body: () throws -> T) rethrows -> T {
        try lock.withLock(body)
    }

    /// How the book writes the command for a request.
    static func key(_ request: CheckRequest) -> String {
        var words = ["check-step", "\(request.stage.number)"]
        switch request.source {
        case .steps: break
        case .pitfall(let pitfall): words += ["--pitfall", pitfall.name]
        case .directory(let url): words += ["--dir", url.path.replacingOccurrences(of: labPaths.root.path + "/", with: "")]
        }
        switch request.machine {
        case .host: words.append("--host")
        case .virtualMachine(let kernel) where kernel != .v6_1: words += ["--kernel", kernel.label]
        case .virtualMachine: break
        }
        if request.trace { words.append("--trace") }
        return words.joined(separator: " ")
    }

    /// Parses a book transcript's command back into a request.
    static func request(for command: String) -> CheckRequest? {
        let words = command.split(separator: " ").map(String.init)
        guard words.count >= 2, words[0] == "check-step", let number = Int(words[1]),
              let stage = Stage.numbered(number) else { return nil }
        var kernel = KernelChoice.v6_1
        var source = SourceChoice.steps
        var index = 2
        var trace = false
        while index < words.count {
            if words[index] == "--trace" {
                trace = true
                index += 1
                continue
            }
            guard index + 1 < words.count else { return nil }
            switch words[index] {
            case "--kernel": kernel = KernelChoice.named(words[index + 1]) ?? kernel
            case "--pitfall": source = Pitfall.named(words[index + 1]).map(SourceChoice.pitfall) ?? source
            case "--dir": source = .directory(labPaths.root.appendingPathComponent(words[index + 1]))
            default: return nil
            }
            index += 2
        }
        return CheckRequest(stage: stage, kernel: kernel, source: source, trace: trace)
    }
}

/// Plain text of a verdict, as check-step prints it without a terminal.
func transcript(_ verdict: StageVerdict) -> String {
    TextReport(style: ReportStyle(color: false)).render(verdict)
}

extension KernelChoice: CustomTestStringConvertible {
    public var testDescription: String { "Linux \(label)" }
}

extension Stage: CustomTestStringConvertible {
    public var testDescription: String { slug }
}

extension Pitfall: CustomTestStringConvertible {
    public var testDescription: String { name }
}
