import Testing
@testable import XtunChecks

@Suite("Wire protocol")
struct WireTests {
    @Test(arguments: [
        WireMessage.ready(uptime: 2.69),
        .done(uptime: 13.27),
        .expectCrash(id: "no-xmit-oops"),
        .note("ip link set xtun up: exit 0"),
        .result(id: "mtu-1500", outcome: .pass("")),
        .result(id: "loads", outcome: .fail(expected: "insmod to exit 0", got: "killed by signal 9")),
        .result(id: "kernel-log-clean", outcome: .fail(expected: "no alarm", got: "line 1\n\tline 2 \\ end\r")),
        .trace(title: "RX: function_graph", text: "f() {\n\tg();\n}"),
        .benchmark(BenchmarkSample(name: "B3 p50", unit: "µs", device: "tun", round: 2, value: 812.5,
                                   detail: "200 of 200 replies")),
    ])
    func roundTrips(_ message: WireMessage) {
        #expect(WireMessage(line: message.line) == message)
        #expect(!message.line.contains("\n"))
    }

    @Test func carriageReturnsFromTheSerialPortAreIgnored() {
        #expect(WireMessage(line: "XTUN\tREADY\t2.50\r\r\n") == .ready(uptime: 2.5))
    }

    @Test(arguments: [
        "", "[    2.8] BUG: kernel NULL pointer dereference", "XTUN", "XTUN\tRESULT\tloads\tPASS",
        "XTUN\tRESULT\tloads\tMAYBE\tx", "XTUN\tREADY\tsoon", "xtun\tREADY\t1.0", "XTUN\tRESULT\tloads\tFAIL\tonly-one",
        "XTUN\tRESULT\tloads\tSKIP\treason",
    ])
    func ignoresAnythingElse(_ line: String) {
        #expect(WireMessage(line: line) == nil)
    }

    @Test func uptimeKeepsTwoDecimals() {
        #expect(WireMessage.ready(uptime: 3.14159).line == "XTUN\tREADY\t3.14")
        #expect(WireMessage.done(uptime: 10.005).line == "XTUN\tDONE\t10.01")
    }
}

@Suite("Kernel log health gate")
struct KernelLogTests {
    static let oops = """
        [    4.350033] BUG: kernel NULL pointer dereference, address: 0000000000000000
        [    4.350338] #PF: supervisor instruction fetch in kernel mode
        [    4.350877] CPU: 1 PID: 54 Comm: kworker/1:2 Tainted: G           OE      6.1.0-56-amd64 #1
        [    4.351179] Workqueue: mld mld_ifc_work
        [    4.351179] RIP: 0010:0x0
        [    4.351179] RSP: 0018:ffffce77803b3bc8 EFLAGS: 00000246
        [    4.351179] Call Trace:
        [    4.351179]  <TASK>
        [    4.351179]  dev_hard_start_xmit+0x63/0x1d0
        [    4.351179]  sch_direct_xmit+0xa0/0x370
        """

    @Test func findsTheFirstAlarm() {
        #expect(KernelLog(Self.oops).firstAlarm?.contains("BUG: kernel NULL pointer") == true)
    }

    @Test(arguments: ["xtun: registered, address 02:00:00:00:00:01",
                      "xtun: module verification failed: signature and/or required key missing - tainting kernel",
                      "xtun: loading out-of-tree module taints kernel."])
    func ordinaryLinesAreHealthy(_ line: String) {
        #expect(KernelLog(line).firstAlarm == nil)
    }

    @Test(arguments: ["WARNING: CPU: 0 PID: 1 at net/core/dev.c:10000", "refcount_t: underflow; use-after-free.",
                      "unregister_netdevice: waiting for xtun to become free. Usage count = 2",
                      "kmemleak: 1 new suspected memory leaks", "kernel BUG at net/core/skbuff.c:100!"])
    func alarmsAreRecognised(_ line: String) {
        #expect(KernelLog("[ 1.0] \(line)").firstAlarm != nil)
    }

    @Test func excerptDropsRegisterDumps() {
        let excerpt = KernelLog(Self.oops).alarmExcerpt()
        #expect(excerpt.contains { $0.contains("RIP: 0010:0x0") })
        #expect(excerpt.contains { $0.contains("dev_hard_start_xmit") })
        #expect(!excerpt.contains { $0.contains("RSP:") || $0.contains("<TASK>") || $0.contains("#PF") })
    }

    @Test func fatalLinesAreTheOopsesNotTheWarnings() {
        #expect(KernelLog(Self.oops).firstFatal?.contains("BUG: kernel NULL pointer") == true)
        #expect(KernelLog("[ 1.0] WARNING: CPU: 0 PID: 1 at net/core/dev.c:10000").firstFatal == nil)
        #expect(KernelLog.fatal.allSatisfy { KernelLog.alarms.contains($0) })
    }

    @Test func traceMentionsFunctions() {
        let log = KernelLog(Self.oops)
        #expect(log.traceMentions("dev_hard_start_xmit"))
        #expect(!log.traceMentions("register_netdevice"))
    }
}
