import Foundation
import Testing
@testable import XtunLab

@Suite("Transcript normalisation")
struct TranscriptTests {
    @Test func volatileValuesBecomePlaceholders() {
        let normalizer = TranscriptNormalizer()
        let one = """
            [01-init] steps/01-init on Linux 6.1.0-56-amd64 (Debian 6.1.192-2)
            [01-init] PASS  xtun appears in /sys/class/net — ifindex 2
            [01-init] PASS  xtun has a valid unicast, non-zero MAC address — 6e:c6:83:5d:1c:0d (random)
            [01-init] FAIL  frame: got 6e c6 83 5d 1c 0d 08 00
                      [    2.797395] RIP: 0010:register_netdevice+0x103/0x7e0
                      [    2.797395] CPU: 1 PID: 91 Comm: insmod
            [01-init] 12 passed, 0 failed (TCG, 7.2 s)
            """
        let two = """
            [01-init] steps/01-init on Linux 6.1.0-57-amd64 (Debian 6.1.200-1)
            [01-init] PASS  xtun appears in /sys/class/net — ifindex 3
            [01-init] PASS  xtun has a valid unicast, non-zero MAC address — 0a:11:22:33:44:55 (random)
            [01-init] FAIL  frame: got 0a 11 22 33 44 55 08 00
                      [   12.1] RIP: 0010:register_netdevice+0x10f/0x7f0
                      [   12.1] CPU: 0 PID: 103 Comm: insmod
            [01-init] 12 passed, 0 failed (KVM, 17.0 s)
            """
        #expect(normalizer.normalize(one) == normalizer.normalize(two))
        #expect(normalizer.normalize(one).contains("MAC-BYTES 08 00"))
    }

    @Test func whatTimingDecidesIsHiddenToo() {
        let normalizer = TranscriptNormalizer()
        let one = """
            [01-init] PASS  oopses — RIP 0x0 called from dev_hard_start_xmit; Workqueue: mld mld_ifc_work; Kernel panic
            [02-ops] FAIL  leaks: got 1123 more live skbs after the last rmmod than before the first insmod
            [01-init] PASS  walk — allocations 2...534 of insmod (xtun's init, up to the loader's 535) failed in turn
                      [   31.5] swapper/1/0 just changed the state of lock:
            """
        let two = """
            [01-init] PASS  oopses — RIP 0x0 called from dev_hard_start_xmit; Workqueue: ipv6_addrconf addrconf_dad_work; Kernel panic
            [02-ops] FAIL  leaks: got 1122 more live skbs after the last rmmod than before the first insmod
            [01-init] PASS  walk — allocations 2...545 of insmod (xtun's init, up to the loader's 546) failed in turn
                      [   45.0] xtun-agent/93 just changed the state of lock:
            """
        #expect(normalizer.normalize(one) == normalizer.normalize(two))
        #expect(normalizer.normalize(one).contains("Workqueue: WQ WORK; Kernel panic"))
    }

    @Test func theFuzzersSeedAndTheRacesCountsAreHidden() {
        let normalizer = TranscriptNormalizer()
        let one = """
            [06-ctl] PASS  fuzz — 4 processes, 100,000 calls (seed 1796233354392275): 14,340 ok, 49,331 EBADFD; TUNSETIFF attached 210 times, 0 read; 43 persistent devices left, deleted with RTM_DELLINK; no fz device left
            [06-ctl] PASS  races — rc0-rc2 for 2.5 s: attached 164 of 250, delete_module 1 of 2,303; module loaded, 0 persistent rc devices deleted at the end, no rc device left
            """
        let two = """
            [06-ctl] PASS  fuzz — 4 processes, 100,000 calls (seed 17): 15,000 ok, 40,000 EINVAL, 9 EBADFD; TUNSETIFF attached 3 times, 2 read; 1 persistent devices left, deleted with RTM_DELLINK; no fz device left
            [06-ctl] PASS  races — rc0-rc2 for 10.0 s: attached 1,164 of 2,250, delete_module 4 of 9,303; module loaded, 2 persistent rc devices deleted at the end, no rc device left
            """
        #expect(normalizer.normalize(one) == normalizer.normalize(two))
        #expect(normalizer.normalize(one).contains("4 processes, 100,000 calls (seed N): COUNTS; no fz device left"))
        // What the checks claim survives: fewer calls, a device left.
        #expect(normalizer.normalize(one) != normalizer.normalize(
            one.replacingOccurrences(of: "100,000 calls", with: "99,000 calls")))
        #expect(normalizer.normalize(one) != normalizer.normalize(
            one.replacingOccurrences(of: "no rc device left", with: "rc1 left")))
    }

    @Test func eitherLockdepReportOfAnIrqUnsafeLockIsOne() {
        let normalizer = TranscriptNormalizer()
        let one = """
            [03-tx] FAIL  netconsole: expected no lockdep report, got [   31.5] WARNING: possible irq lock inversion dependency detected
                      [   31.5] swapper/1/0 just changed the state of lock:
                      [   31.5]  (&list->lock){+...}-{2:2}
                      hint: book/03-tx.md#netpoll
            """
        let two = """
            [03-tx] FAIL  netconsole: expected no lockdep report, got [   45.0] WARNING: HARDIRQ-safe -> HARDIRQ-unsafe lock order detected
                      [   45.0] 6.1.192 #1 Tainted: G           O
                      hint: book/03-tx.md#netpoll
            """
        #expect(normalizer.normalize(one) == normalizer.normalize(two))
        #expect(normalizer.normalize(one).contains("hint: book/03-tx.md#netpoll"))
    }

    @Test func realDifferencesSurvive() {
        let normalizer = TranscriptNormalizer()
        #expect(normalizer.normalize("[01-init] 12 passed, 0 failed") != normalizer.normalize("[01-init] 11 passed, 1 failed"))
        #expect(normalizer.normalize("tx_packets +3") != normalizer.normalize("tx_packets +4"))
    }
}
