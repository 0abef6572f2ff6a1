import Glibc
import XtunChecks

/// Stage 01: load, inspect, unload; and the kernel-log health gate.
enum LifecycleChecks {
    static let all: [String: GuestCheck] = [
        Expectation.loads.id: GuestCheck(needsModule: false) { session in
            if session.module.isLoaded { _ = session.module.unload() }
            let result = session.module.load()
            var got = "insmod: \(result.summary)"
            if let alarm = KernelLog(lines: Array(session.log.since(0))).firstAlarm {
                got += "; kernel log: \(alarm)"
            }
            try require(result.succeeded, expected: "insmod to exit 0", got: got)
            try require(session.module.isLoaded, expected: "/sys/module/xtun", got: "missing")
            session.stateAfterLoad = (session.interface.attribute("flags") ?? "?",
                                      session.interface.attribute("operstate") ?? "?", session.interface.isUp)
            return "insmod exit 0"
        },
        Expectation.registered.id: GuestCheck { session in
            try require(session.interface.exists, expected: "/sys/class/net/xtun", got: "missing")
            return "ifindex \(session.interface.attribute("ifindex") ?? "?")"
        },
        Expectation.typeEther.id: GuestCheck { session in
            let type = session.interface.attribute("type") ?? "missing"
            try require(type == "1", expected: "type 1", got: "type \(type)")
            return "type 1"
        },
        Expectation.macValid.id: GuestCheck { session in
            let text = session.interface.attribute("address") ?? "missing"
            guard let mac = MACAddress(text) else {
                throw Failure(expected: "a MAC address", got: text)
            }
            try require(mac.isValidUnicast, expected: "a unicast, non-zero address", got: text)
            let assign = session.interface.attribute("addr_assign_type") ?? "?"
            return "\(mac)" + (assign == "1" ? " (random)" : "")
        },
        Expectation.mtu1500.id: GuestCheck { session in
            let mtu = session.interface.attribute("mtu") ?? "missing"
            try require(mtu == "1500", expected: "1500", got: mtu)
            return ""
        },
        // Judged on the state recorded by `loads`: the runner puts xtun down
        // after every check, which would hide a module that brings it up.
        Expectation.downAfterLoad.id: GuestCheck(needsModule: false) { session in
            guard let (flags, operstate, isUp) = session.stateAfterLoad else {
                throw Failure(expected: "xtun loaded by the loads check", got: "not loaded")
            }
            try require(!isUp && operstate == "down", expected: "IFF_UP clear and operstate down",
                        got: "flags \(flags), operstate \(operstate)")
            return "flags \(flags), operstate \(operstate)"
        },
        Expectation.upWithoutOpen.id: GuestCheck { session in
            let before = session.interface.counters
            let result = Command.run(["ip", "link", "set", "xtun", "up"], timeout: 10)
            try require(result.succeeded, expected: "ip link set xtun up to exit 0", got: result.summary)
            let flags = session.interface.attribute("flags") ?? "?"
            try require(session.interface.isUp, expected: "IFF_UP set", got: "flags \(flags)")
            Sys.sleep(milliseconds: 500)
            let sent = session.interface.counters.delta(since: before)
            try require(sent.isEmpty, expected: "nothing transmitted", got: Counters.describe(sent))
            try Command.must(["ip", "link", "set", "xtun", "down"])
            return "flags \(flags) after up, nothing sent"
        },
        Expectation.unloads.id: GuestCheck(needsModule: false) { session in
            try session.ensureLoaded()
            let result = session.module.unload()
            try require(result.succeeded, expected: "rmmod xtun to exit 0", got: result.summary)
            try require(!session.interface.exists, expected: "/sys/class/net/xtun gone", got: "still there")
            try require(!session.module.isLoaded, expected: "/sys/module/xtun gone", got: "still there")
            return "rmmod exit 0"
        },
        Expectation.reloads.id: GuestCheck(needsModule: false) { session in
            if session.module.isLoaded { _ = session.module.unload() }
            for round in 1...2 {
                let load = session.module.load()
                try require(load.succeeded && session.interface.exists,
                            expected: "load #\(round) to create xtun", got: "insmod: \(load.summary)")
                let unload = session.module.unload()
                try require(unload.succeeded && !session.interface.exists,
                            expected: "unload #\(round) to remove xtun", got: "rmmod: \(unload.summary)")
            }
            return "2 more load/unload rounds"
        },
        Expectation.kernelLogClean.id: GuestCheck(needsModule: false) { session in
            let log = KernelLog(lines: Array(session.log.since(0)))
            if log.firstAlarm != nil {
                throw Failure(expected: "no WARN/BUG/Oops/refcount/leak report",
                              got: log.alarmExcerpt(limit: 12).joined(separator: "\n"))
            }
            return "\(log.lines.count) kernel log lines, no alarm"
        },
    ]

    /// The last act of stage 01: bring xtun up with IPv6 on and let the
    /// stack transmit. The host decides the result from the console.
    static func triggerTransmitWithoutXmit(_ session: Session) {
        do {
            try session.ensureLoaded()
            try session.network.setIPv6(enabled: true)
            session.reporter.send(.expectCrash(id: Expectation.transmitWithoutXmitCrashes.id))
            let result = Command.run(["ip", "link", "set", "xtun", "up"], timeout: 10)
            session.note("ip link set xtun up (IPv6 on): \(result.summary)")
            // IPv6 sends its first frames (MLD report, DAD) within about a second.
            Sys.sleep(milliseconds: 8000)
            session.note("still running 8 s after ip link set xtun up")
        } catch let failure as Failure {
            session.note("could not set up the transmit: \(failure.got)")
        } catch {
            session.note("could not set up the transmit: \(error)")
        }
    }
}
