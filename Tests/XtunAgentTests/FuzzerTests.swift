import CLinux
import Testing
import XtunPackets
@testable import XtunAgent

/// The fuzzer's numbers and its summary line, on the host.
@Suite("Fuzzer")
struct FuzzerTests {
    @Test func theVFSsOwnIoctlsAreNeverDrawn() {
        for request in FuzzIoctls.vfs { #expect(FuzzIoctls.isExcluded(request)) }
        var random = SeededRandom(seed: 6)
        for _ in 0..<100_000 {
            #expect(!FuzzIoctls.isExcluded(FuzzIoctls.tun(&random)))
            #expect(!FuzzIoctls.isExcluded(FuzzIoctls.elsewhere(&random)))
        }
    }

    @Test func tunsOwnNumbersAreNotExcluded() {
        for request in [xtun_TUNSETIFF, xtun_TUNGETIFF, xtun_TUNSETPERSIST, xtun_FIONREAD] {
            #expect(!FuzzIoctls.isExcluded(request))
        }
        #expect(FuzzIoctls.isExcluded(xtun_FIFREEZE) && FuzzIoctls.isExcluded(xtun_FIONBIO))
    }

    @Test func theSummaryLineRoundTrips() {
        var tally = FuzzTally()
        tally.calls = 25_000
        tally.succeeded = 3_000
        tally.attached = 40
        tally.written = 400
        tally.read = 2
        tally.broughtUp = 7
        tally.record(failure: EINVAL)
        tally.record(failure: EINVAL)
        tally.record(failure: 200)
        #expect(tally.line == "calls=25000 ok=3000 setiff=40 written=400 read=2 up=7 E200=1 EINVAL=2")
        #expect(FuzzTally(line: tally.line) == tally)
        #expect(FuzzTally(line: "cannot become 1000: EPERM") == nil)
        #expect((tally + tally).errors["EINVAL"] == 4)
    }

    @Test func countsAreGrouped() {
        #expect(grouped(100_000) == "100,000")
        #expect(grouped(999) == "999")
        #expect(grouped(1_234_567) == "1,234,567")
        #expect(grouped(0) == "0")
    }
}
