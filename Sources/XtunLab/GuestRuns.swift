import Foundation
import Synchronization
import XtunChecks

extension GuestRun {
    /// Runs `count` boots at once, each on a thread of its own, and returns
    /// their runs in order; the first error thrown, if any, after all ended.
    static func concurrently(_ count: Int, _ boot: @escaping @Sendable (Int) throws -> GuestRun) throws -> [GuestRun] {
        if count == 1 { return [try boot(0)] }
        let results = Mutex<[Int: Result<GuestRun, any Error>]>([:])
        DispatchQueue.concurrentPerform(iterations: count) { guest in
            let result = Result { try boot(guest) }
            results.withLock { $0[guest] = result }
        }
        return try results.withLock { finished in try (0..<count).map { try finished[$0]!.get() } }
    }

    /// The guests of one split suite as one run. Each expectation was checked
    /// in one guest, except the gates every guest checks (`Suite.everyGuest`):
    /// those pass if they passed in every guest, and say what each saw. The
    /// run is ready when the last guest was, done when the last one was, and
    /// its console is every guest's, one after the other.
    static func combined(_ runs: [GuestRun], everyGuest: Set<Expectation> = Suite.everyGuest) -> GuestRun {
        guard let first = runs.first, runs.count > 1 else { return runs[0] }
        var order: [String] = []
        var others: [TimedMessage] = []
        var reported: [[String: Outcome]] = []
        for run in runs {
            var results: [String: Outcome] = [:]
            for timed in run.messages {
                switch timed.message {
                case .ready, .done: continue
                case .result(let id, let outcome):
                    if !order.contains(id) { order.append(id) }
                    results[id] = results[id] ?? outcome
                default: others.append(timed)
                }
            }
            reported.append(results)
        }
        let gates = Set(everyGuest.map(\.id))
        // A gate a guest never reached fails, even if another guest passed it.
        let outcomes = Dictionary(uniqueKeysWithValues: order.map { id in
            (id, gates.contains(id)
                ? zip(runs, reported).map { run, results in
                    results[id] ?? .fail(expected: "", got: VerdictAssembler.missingReason(in: run))
                }
                : reported.compactMap { $0[id] })
        })
        let ready = runs.map(\.readyAt)
        let done = runs.map(\.doneAt)
        var messages: [TimedMessage] = []
        if ready.allSatisfy({ $0 != nil }) {
            messages.append(TimedMessage(message: .ready(uptime: 0), at: ready.compactMap { $0 }.max() ?? 0))
        }
        messages += others
        messages += order.map { id in
            TimedMessage(message: .result(id: id, outcome: Outcome.everyGuest(outcomes[id] ?? [])), at: 0)
        }
        if done.allSatisfy({ $0 != nil }) {
            messages.append(TimedMessage(message: .done(uptime: 0), at: done.compactMap { $0 }.max() ?? 0))
        }
        let console = runs.enumerated().map { guest, run in
            guest == 0 ? run.console : "----- guest \(guest + 1) of \(runs.count) -----\n" + run.console
        }.joined(separator: "\n")
        var run = GuestRun(messages: messages, console: console, timedOut: runs.contains(where: \.timedOut),
                           exitStatus: runs.map(\.exitStatus).first { $0 != 0 } ?? first.exitStatus,
                           duration: runs.map(\.duration).max() ?? 0, checkTimes: runs.flatMap(\.checkTimes))
        run.guestChecks = runs.map { $0.duration - ($0.readyAt ?? $0.duration) }
        return run
    }
}

extension Outcome {
    /// One expectation checked in several guests: the first failure, naming
    /// its guest; else a pass that says what each guest saw.
    static func everyGuest(_ outcomes: [Outcome]) -> Outcome {
        if outcomes.count == 1 { return outcomes[0] }
        for (guest, outcome) in outcomes.enumerated() {
            if case .fail(let expected, let got) = outcome {
                return .fail(expected: expected, got: guest == 0 ? got : "in guest \(guest + 1): \(got)")
            }
        }
        let observed = outcomes.enumerated().map { guest, outcome -> String in
            guard case .pass(let text) = outcome else { return "" }
            return guest == 0 ? text : "guest \(guest + 1): \(text)"
        }
        return .pass(observed.joined(separator: "; "))
    }
}

/// Counts results arriving from guests that run at once.
final class ResultCounter: Sendable {
    private let count = Mutex(0)

    func increment() -> Int { count.withLock { $0 += 1; return $0 } }
}
