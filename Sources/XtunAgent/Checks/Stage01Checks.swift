import CLinux
import Glibc
import XtunChecks
import XtunPackets

/// Stage 01 (`XtunChecks/Stages/Stage01Init.swift`): load, inspect, unload;
/// the health gate; and the oops a missing .ndo_start_xmit causes.
enum Stage01Checks {
    static let all: [GuestCheck] = [
        GuestCheck(.loads, needsModule: false) { session in
            if session.module.isLoaded { _ = session.module.unload() }
            let result = session.module.load()
            var got = "insmod: \(result.summary)"
            if let alarm = session.log.all.firstAlarm { got += "; kernel log: \(alarm)" }
            try require(result.succeeded, expected: "insmod to exit 0", got: got)
            try require(session.module.isLoaded, expected: "/sys/module/\(session.module.name)", got: "missing")
            session.stateAfterLoad = (session.interface.flagsText,
                                      session.interface.attribute("operstate") ?? "?", session.interface.isUp)
            return "insmod exit 0"
        },
        GuestCheck(.registered) { session in
            try require(session.interface.exists, expected: session.interface.directory, got: "missing")
            return "ifindex \(session.interface.index.map(String.init) ?? "?")"
        },
        GuestCheck(.typeEther) { session in
            let type = session.interface.attribute("type") ?? "missing"
            try require(type == "\(ARPHRD_ETHER)", expected: "type \(ARPHRD_ETHER)", got: "type \(type)")
            return "type \(type)"
        },
        GuestCheck(.macValid) { session in
            let text = session.interface.attribute("address") ?? "missing"
            guard let mac = MACAddress(text) else {
                throw Failure(expected: "a MAC address", got: text)
            }
            try require(mac.isValidUnicast, expected: "a unicast, non-zero address", got: text)
            let assign = session.interface.attribute("addr_assign_type") ?? "?"
            return "\(mac)" + (assign == Interface.randomAddress ? " (random)" : "")
        },
        GuestCheck(.mtu1500) { session in
            let mtu = session.interface.attribute("mtu") ?? "missing"
            try require(mtu == "\(ETH_DATA_LEN)", expected: "\(ETH_DATA_LEN)", got: mtu)
            return ""
        },
        // Judged on the state recorded by `loads`: the runner puts xtun down
        // after every check, which would hide a module that brings it up.
        GuestCheck(.downAfterLoad, needsModule: false) { session in
            guard let (flags, operstate, isUp) = session.stateAfterLoad else {
                throw Failure(expected: "\(session.interface.name) loaded by the loads check", got: "not loaded")
            }
            try require(!isUp && operstate == "down", expected: "IFF_UP clear and operstate down",
                        got: "flags \(flags), operstate \(operstate)")
            return "flags \(flags), operstate \(operstate)"
        },
        GuestCheck(.upWithoutOpen) { session in
            let before = session.interface.counters
            let result = Command.run(["ip", "link", "set", session.interface.name, "up"], timeout: 10)
            try require(result.succeeded, expected: "ip link set \(session.interface.name) up to exit 0",
                        got: result.summary)
            let flags = session.interface.flagsText
            try require(session.interface.isUp, expected: "IFF_UP set", got: "flags \(flags)")
            Sys.sleep(milliseconds: 500)
            let sent = session.interface.counters.delta(since: before)
            try require(sent.isEmpty, expected: "nothing transmitted", got: Counters.describe(sent))
            try session.network.down()
            return "flags \(flags) after up, nothing sent"
        },
        GuestCheck(.unloads, needsModule: false) { session in
            try session.ensureLoaded()
            let result = session.module.unload()
            try require(result.succeeded, expected: "rmmod \(session.module.name) to exit 0", got: result.summary)
            try require(!session.interface.exists, expected: "\(session.interface.directory) gone", got: "still there")
            try require(!session.module.isLoaded, expected: "/sys/module/\(session.module.name) gone",
                        got: "still there")
            return "rmmod exit 0"
        },
        GuestCheck(.reloads, needsModule: false) { session in
            if session.module.isLoaded { _ = session.module.unload() }
            for round in 1...2 {
                let load = session.module.load()
                try require(load.succeeded && session.interface.exists,
                            expected: "load #\(round) to create \(session.interface.name)",
                            got: "insmod: \(load.summary)")
                let unload = session.module.unload()
                try require(unload.succeeded && !session.interface.exists,
                            expected: "unload #\(round) to remove \(session.interface.name)",
                            got: "rmmod: \(unload.summary)")
            }
            return "2 more load/unload rounds"
        },
        // Fails each slab allocation of xtun's init in turn (InitFailures).
        GuestCheck(.initUnwinds, needsModule: false, timeout: 900) { try InitFailures(session: $0).check() },
        GuestCheck(.noLeaks, needsModule: false, timeout: 120) { session in
            if session.module.isLoaded { _ = session.module.unload() }
            try require(!session.module.isLoaded, expected: "\(session.module.name) unloaded", got: "still loaded")
            guard let baseline = session.slabBaseline else {
                throw Failure(expected: "slab user tracking (slub_debug=U and debugfs)",
                              got: "no alloc_traces in \(SlabUsers.directory)")
            }
            // Beyond the baseline: the __init code of a module loaded before
            // the run (9p's, for a run with the host's root) is gone too, and
            // what it allocated looks the same.
            NapiSkbCache.drain()
            let settled = SlabUsers.settled {
                $0.fromUnloadedModules(beyond: baseline).isEmpty && $0.skbHeads <= baseline.skbHeads
            }
            guard let now = settled else { throw Failure(expected: "slab user tracking", got: "alloc_traces unreadable") }
            var found = now.fromUnloadedModules(beyond: baseline).prefix(4).map(SlabUsers.describe)
            if now.skbHeads > baseline.skbHeads {
                found.append("\(now.skbHeads - baseline.skbHeads) more live skbs after the last rmmod "
                    + "than before the first insmod")
            }
            try require(found.isEmpty, expected: "nothing left allocated by the module", got: found.joined(separator: "\n"))
            // The debug kernel also has kmemleak, which finds what nothing points to.
            if Kmemleak.isAvailable {
                let reports = session.kmemleakReports()
                try require(reports.isEmpty, expected: "no kmemleak report",
                            got: "\(reports.count) unreferenced objects; the first:\n"
                                + (reports.first ?? "").split(separator: "\n").prefix(16).joined(separator: "\n"))
                return "no live allocation from the module's code, no more live skbs than before the first insmod, "
                    + "kmemleak: nothing unreferenced"
            }
            return "no live allocation from the module's code, no more live skbs than before the first insmod"
        },
        GuestCheck(.kernelLogClean, needsModule: false, runsAfterTrouble: true, timeout: 120) { session in
            // On the debug kernel the gate also asks kmemleak, once the run is over.
            let leaks = Kmemleak.isAvailable && session.trouble == nil ? session.kmemleakReports() : []
            let log = session.judgedLog
            if log.firstAlarm != nil || !leaks.isEmpty {
                throw Failure(expected: "no WARN/BUG/Oops/refcount/leak report",
                              got: (log.alarmExcerpt(limit: 12) + leaks.prefix(1).flatMap {
                                  $0.split(separator: "\n").prefix(16).map(String.init)
                              }).joined(separator: "\n"))
            }
            return "\(log.lines.count) kernel log lines, no alarm" + (Kmemleak.isAvailable ? ", kmemleak clean" : "")
        },
        // The last act of stage 01: bring xtun up with IPv6 on and let the
        // stack transmit. The host decides the result from the console.
        GuestCheck(.transmitWithoutXmitCrashes) { session in
            try session.network.setIPv6(enabled: true)
            let result = Command.run(["ip", "link", "set", session.interface.name, "up"], timeout: 10)
            session.note("ip link set \(session.interface.name) up (IPv6 on): \(result.summary)")
            // IPv6 sends its first frames (MLD report, DAD) within about a second.
            Sys.sleep(milliseconds: 8000)
            return "still running 8 s after ip link set \(session.interface.name) up"
        },
    ]
}
