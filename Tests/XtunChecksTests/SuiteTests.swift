import Testing
@testable import XtunChecks

@Suite("Expectation tables")
struct SuiteTests {
    @Test func idsAreUniqueAndKebabCase() {
        let ids = Expectation.catalogue.map(\.id)
        #expect(Set(ids).count == ids.count)
        for id in ids {
            #expect(id.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "-" }, "\(id)")
        }
    }

    @Test(arguments: Stage.written)
    func everyWrittenStageBuildsFirstAndEndsWithTheHealthGate(_ stage: Stage) {
        let suite = Suite.of(stage)
        #expect(suite.expectations.first == .buildsClean)
        #expect(suite.expectations.contains(.kernelLogClean))
        #expect(Set(suite.expectations).count == suite.expectations.count)
    }

    @Test(arguments: Stage.written.filter { $0.number > 1 })
    func laterStagesAddChecks(_ stage: Stage) {
        #expect(!Suite.of(stage).added.isEmpty)
        #expect(Suite.of(stage).added.allSatisfy { $0.chapter == stage })
    }

    /// A split suite checks each expectation in one guest, the gates in every
    /// guest, in the suite's order; an unsplit one runs whole in one guest.
    @Test(arguments: Stage.written)
    func guestsShareOutTheSuite(_ stage: Stage) {
        let suite = Suite.of(stage)
        let guests = suite.guests
        guard guests.count > 1 else {
            #expect(guests.map(\.expectations) == [suite.expectations])
            return
        }
        for guest in guests {
            #expect(guest.expectations == suite.expectations.filter(guest.expectations.contains))
            #expect(Suite.everyGuest.isSubset(of: guest.expectations))
        }
        for expectation in suite.expectations {
            let count = guests.filter { $0.expectations.contains(expectation) }.count
            #expect(count == (Suite.everyGuest.contains(expectation) ? guests.count : 1), "\(expectation.id)")
        }
        #expect(guests[1].expectations.filter { !Suite.everyGuest.contains($0) } == suite.expectations.filter(suite.secondGuest.contains))
    }

    /// Without a guest (one guest, or `--host`) the agent runs the whole suite.
    @Test func noGuestIsTheWholeSuite() {
        let suite = Suite.of(.stage06)
        #expect(suite.guest(nil).expectations == suite.expectations)
        #expect(suite.guest(1).expectations == suite.guests[1].expectations)
    }

    @Test func stageSixRunsDebiansProgramsInTheSecondGuest() {
        let second = Suite.of(.stage06).guests[1].expectations
        #expect(second.contains(.openvpnTunnel) && second.contains(.tunConformance))
        #expect(second.contains(.fuzz) && !second.contains(.races) && !second.contains(.loads))
    }

    @Test func theCrashFinaleIsStageOneOnly() {
        for stage in Stage.written {
            let has = Suite.of(stage).expectations.contains(.transmitWithoutXmitCrashes)
            #expect(has == (stage.number == 1))
        }
        #expect(Suite.of(Stage.numbered(1)!).expectations.last == .transmitWithoutXmitCrashes)
    }

    @Test(arguments: Pitfall.all)
    func pitfallsAreCaughtByTheirOwnStage(_ pitfall: Pitfall) {
        let suite = Suite.of(pitfall.stage)
        #expect(!pitfall.caughtBy.isEmpty)
        for expectation in pitfall.caughtBy {
            #expect(suite.expectations.contains(expectation), "\(expectation) is not in \(pitfall.stage)")
        }
        #expect(pitfall.hint.hasPrefix("book/\(pitfall.stage.slug).md#"))
    }

    @Test func stagesAreNumberedInOrder() {
        #expect(Stage.all.map(\.number) == Array(1...6))
        #expect(Stage.all.map(\.slug) == ["01-init", "02-ops", "03-tx", "04-rx", "05-test", "06-ctl"])
        #expect(Stage.numbered(3)?.previous?.slug == "02-ops")
        #expect(Stage.numbered(7) == nil)
    }
}
