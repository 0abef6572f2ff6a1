import Testing
import XtunChecks
import XtunLab
@testable import XtunAgent

/// No expectation can pass for want of a check: every expectation of every
/// written stage has exactly the checks its evaluator names, registered by
/// the stage that adds it, and nothing else is registered.
@Suite("Check registry")
struct RegistryTests {
    @Test(arguments: Stage.written)
    func eachStageRegistersTheGuestChecksItsSuiteAdds(_ stage: Stage) throws {
        let entry = try #require(GuestCheckRegistry.lab.byStage.first { $0.stage == stage },
                                 "no guest checks registered for \(stage)")
        let registered = entry.checks.map(\.expectation.id)
        let wanted = Suite.of(stage).added.filter(\.evaluator.hasGuestCheck).map(\.id)
        #expect(registered.sorted() == wanted.sorted())
    }

    @Test(arguments: Stage.written)
    func eachStageRegistersTheHostJudgesItsSuiteAdds(_ stage: Stage) {
        let registered = HostJudgeRegistry.lab.byStage.first { $0.stage == stage }?.judges.map(\.expectation.id) ?? []
        let wanted = Suite.of(stage).added.filter(\.evaluator.hasHostJudge).map(\.id)
        #expect(registered.sorted() == wanted.sorted())
    }

    @Test func everyExpectationOfEveryWrittenStageHasExactlyItsChecks() {
        for suite in Suite.written {
            for expectation in suite.expectations {
                let guest = GuestCheckRegistry.lab.checks(for: expectation).count
                let host = HostJudgeRegistry.lab.judges(for: expectation).count
                #expect(guest == (expectation.evaluator.hasGuestCheck ? 1 : 0), "\(expectation.id): \(guest) guest checks")
                #expect(host == (expectation.evaluator.hasHostJudge ? 1 : 0), "\(expectation.id): \(host) host judges")
            }
        }
    }

    @Test func nothingIsRegisteredTwiceOrForNothing() {
        let guest = GuestCheckRegistry.lab.all.map(\.expectation.id)
        let host = HostJudgeRegistry.lab.all.map(\.expectation.id)
        #expect(Set(guest).count == guest.count, "a guest check is registered twice")
        #expect(Set(host).count == host.count, "a host judge is registered twice")
        let known = Set(Expectation.catalogue.map(\.id))
        #expect(Set(guest + host).isSubset(of: known))
        #expect(GuestCheckRegistry.lab.byStage.map(\.stage) == Stage.written)
    }
}
