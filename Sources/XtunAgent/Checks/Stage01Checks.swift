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
        GuestCheck(.kernelLogClean, needsModule: false, runsAfterTrouble: true) { session in
            let log = session.log.all
            if log.firstAlarm != nil {
                throw Failure(expected: "no WARN/BUG/Oops/refcount/leak report",
                              got: log.alarmExcerpt(limit: 12).joined(separator: "\n"))
            }
            return "\(log.lines.count) kernel log lines, no alarm"
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
