import Glibc
import XtunChecks
import XtunPackets

/// ftrace's function_graph tracer, limited to the call graphs under some
/// functions (`set_graph_function`, what `trace-cmd record -p
/// function_graph -g FUNCTION` writes), interrupts left out.
struct GraphTracer {
    let functions: [String]

    init(functions: [String]) throws {
        self.functions = functions
        try Tracefs.mount()
        try Tracefs.write("0", "tracing_on")
        try Tracefs.write("nop", "current_tracer")
        try Tracefs.write("", "trace", truncating: true)
        try Tracefs.write("", "set_graph_function", truncating: true)
        for function in functions { try Tracefs.write(function, "set_graph_function") }
        // What the kernel does for its own bookkeeping, not for the packet:
        // slub_debug=U records a stack at every allocation (the leak check),
        // and the debug kernel's lockdep and KASAN run around every lock
        // and access; tcpdump's packet socket takes its own copy of each
        // frame, and bpftrace's probes run at the functions they probe.
        // Their subtrees are left out where they exist.
        try Tracefs.write("", "set_graph_notrace", truncating: true)
        for function in GraphTracer.bookkeeping { try? Tracefs.write(function, "set_graph_notrace") }
        try Tracefs.write("0", "options/funcgraph-irqs")
        try Tracefs.write("function_graph", "current_tracer")
        try Tracefs.write("1", "tracing_on")
    }

    static let bookkeeping = [
        "set_track_prepare", "stack_trace_save", "lock_acquire", "lock_release", "lock_is_held_type",
        "lockdep_hardirqs_on_prepare", "lockdep_hardirqs_on", "lockdep_hardirqs_off", "trace_hardirqs_on",
        "trace_hardirqs_off", "__kasan_check_read", "__kasan_check_write", "kasan_check_range",
        "__kasan_slab_alloc", "__kasan_slab_free", "__kasan_kmalloc", "kmemleak_alloc", "kmemleak_free",
        "should_failslab", "debug_smp_processor_id", "tpacket_rcv", "packet_rcv",
        "kprobe_ftrace_handler",
    ]

    /// Stops tracing and returns the `trace` file; tracefs is as it was.
    func stop() -> String {
        try? Tracefs.write("0", "tracing_on")
        let text = Sys.read("\(Tracefs.path)/trace") ?? ""
        try? Tracefs.write("nop", "current_tracer")
        try? Tracefs.write("", "set_graph_function", truncating: true)
        try? Tracefs.write("", "set_graph_notrace", truncating: true)
        try? Tracefs.write("1", "options/funcgraph-irqs")
        try? Tracefs.write("", "trace", truncating: true)
        return text
    }

    /// The first complete call of `function` in a function_graph trace, as
    /// the article printed it: the call tree after the `|`, without the CPU
    /// and duration columns. At most `limit` lines.
    static func firstCall(of function: String, in trace: String, limit: Int = 150) -> [String]? {
        var collected: [String] = []
        var cpu: Substring?
        for line in trace.split(separator: "\n") where !line.hasPrefix("#") {
            guard let bar = line.firstIndex(of: "|") else { continue }
            let thisCPU = line[..<bar].split(separator: ")").first.map { $0.drop { $0 == " " } }
            var tree = line[line.index(after: bar)...]
            if tree.hasPrefix("  ") { tree = tree.dropFirst(2) }
            if let cpu {
                guard thisCPU == cpu else { continue }
                collected.append(String(tree))
                if tree == "}" || tree.hasPrefix("} /*") { break }
            } else if tree.hasPrefix(function + "(") || tree.hasPrefix(function + " [") {
                collected.append(String(tree))
                if tree.hasSuffix(";") { break }
                cpu = thisCPU
            }
        }
        guard !collected.isEmpty else { return nil }
        let folded = fold(withoutInterrupts(collected))
        guard folded.count > limit else { return folded }
        return Array(folded.prefix(limit)) + ["… \(folded.count - limit) more lines"]
    }

    /// Calls shown as one line: what they do inside is the allocator's
    /// business (with slub_debug=U, dozens of lines per allocation).
    static func isFolded(_ function: Substring) -> Bool {
        ["kmem_cache_alloc", "kmem_cache_free", "__kmalloc", "kmalloc_reserve", "kfree", "__kmem_cache_free",
         "__check_object_size"].contains { function == $0 || function.hasPrefix($0 + "_") }
    }

    /// An interrupt that arrives during the call: `funcgraph-irqs` off hides
    /// its handler, but not the softirq work run on its way out
    /// (`irq_enter_rcu();` then `handle_softirqs() { … }` at the same depth).
    /// That work belongs to whatever the timer or device wanted, not to the
    /// traced call, and it comes at random: it is left out.
    static func withoutInterrupts(_ tree: [String]) -> [String] {
        var out: [String] = []
        var index = tree.startIndex
        while index < tree.endIndex {
            let indent = String(tree[index].prefix { $0 == " " })
            guard tree[index].dropFirst(indent.count) == "irq_enter_rcu();" else {
                out.append(tree[index])
                index += 1
                continue
            }
            index += 1
            // The softirq work and the exit that follow it, at its depth.
            while index < tree.endIndex {
                let call = tree[index].dropFirst(indent.count)
                guard tree[index].hasPrefix(indent),
                      ["handle_softirqs", "__irq_exit_rcu", "irq_exit_rcu"].contains(where: { call.hasPrefix($0 + "(") })
                else { break }
                index += 1
                if call.hasSuffix("{") {
                    while index < tree.endIndex, tree[index] != indent + "}" { index += 1 }
                    index += 1
                }
            }
        }
        return out
    }

    /// `f() {` … `}` becomes `f();` for the folded functions.
    static func fold(_ tree: [String]) -> [String] {
        var out: [String] = []
        var skippingUntil: String?
        for line in tree {
            if let closing = skippingUntil {
                if line == closing { skippingUntil = nil }
                continue
            }
            let indent = line.prefix { $0 == " " }
            let call = line.dropFirst(indent.count)
            if call.hasSuffix("() {"), isFolded(call.dropLast(4)) {
                out.append("\(indent)\(call.dropLast(4))();")
                skippingUntil = "\(indent)}"
            } else {
                out.append(line)
            }
        }
        return out
    }
}

/// `check-step N --trace`: after the checks, one short exchange through
/// xtun with the driver's TX and RX paths traced (ftrace's function graph)
/// and the wire captured (Debian's tcpdump). xtun gets a fixed address
/// first, so that every run prints the same bytes.
enum DriverTrace {
    static let mac = LabNetwork.fixedLocalMAC
    /// The driver's entry points, TX then RX, as named in driver/.
    static let entryPoints = [
        (function: "xtun_net_start_xmit", path: "TX"),
        (function: "xtun_chr_write_iter", path: "RX"),
    ]

    static func run(_ session: Session, place: Place, debugKernel: Bool) {
        do {
            for trace in try capture(session, place: place, debugKernel: debugKernel) {
                session.reporter.send(.trace(title: trace.title, text: trace.text))
            }
        } catch let failure as Failure {
            session.reporter.send(.trace(title: "no trace", text: "expected \(failure.expected), got \(failure.got)"))
        } catch {
            session.reporter.send(.trace(title: "no trace", text: "\(error)"))
        }
        session.reset()
    }

    /// The functions of the loaded module, from /proc/kallsyms.
    static func moduleFunctions() -> Set<String> {
        let symbols = Sys.read("/proc/kallsyms") ?? ""
        return Set(symbols.split(separator: "\n").compactMap { line in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 4, fields[3] == "[\(DriverNames.module)]", fields[1] == "t" || fields[1] == "T"
            else { return nil }
            return String(fields[2])
        })
    }


    /// Starts a program and waits until its output says it is ready.
    static func startTool(_ words: [String], place: Place, readyWhen marker: String,
                          within limit: Double) throws -> Child {
        let child = try place == .host ? Command.mustStart(words) : Debian.start(words)
        guard Sys.wait(seconds: limit, every: 100, until: { child.outputSoFar().contains(marker) }) else {
            let result = child.kill()
            throw Failure(expected: "\(words[0]) to print \"\(marker)\" within \(seconds(limit))",
                          got: result.summary + " " + result.output.split(separator: "\n").prefix(3).joined(separator: " | "))
        }
        return child
    }

    /// Brings `interface` up as 10.99.0.1/24 with the trace's address; one ARP probe only.
    static func prepare(_ interface: String) throws {
        let setup = NetworkSetup(interface: Interface(name: interface))
        try setup.setAddress(mac)
        try setup.configure()
        try Sys.write("10000", to: "/proc/sys/net/ipv4/neigh/\(interface)/retrans_time_ms")
    }

    /// TX: a datagram for 10.99.0.2 makes the kernel ask for its address.
    /// RX (when the device takes writes): 10.99.0.2 asks for 10.99.0.1, and
    /// the kernel answers. Returns the frames read.
    static func exchange(_ device: FrameDevice, receives: Bool) throws -> [[UInt8]] {
        let sender = try UDPSender(port: 7300)
        try sender.send(Array("xtun --trace".utf8))
        var read = device.nextFrame(timeout: 2).map { [$0] } ?? []
        if receives {
            try device.mustWrite(Frames(xtunMAC: mac).arpRequestFromPeer(), "an ARP request from 10.99.0.2")
        }
        Sys.sleep(seconds: 0.5)
        read += device.drain()
        return read
    }

    static func capture(_ session: Session, place: Place, debugKernel: Bool) throws -> [(title: String, text: String)] {
        try session.ensureLoaded()
        let name = session.interface.name
        try prepare(name)
        defer { try? Sys.write("1000", to: "/proc/sys/net/ipv4/neigh/\(name)/retrans_time_ms") }
        let device = try session.openDevice()

        // The article's tcpdump -XX -n -i xtun, with -e (the link-level
        // header, even when tcpdump can decode the frame), -t (no time
        // stamps, so that runs compare) and -l (a line at a time).
        let tcpdumpWords = ["tcpdump", "-XX", "-n", "-e", "-t", "-l", "-i", name]
        let tcpdump = try startTool(tcpdumpWords, place: place, readyWhen: "listening on",
                                    within: 20 * session.timeScale)
        // The debug kernel has no BPF (CONFIG_BPF_SYSCALL is off).
        let script = Sys.read(session.stageFile("xtun_probes.bt"))
        let probes = try script.flatMap { text in
            debugKernel ? nil : try startTool(["bpftrace", "-e", text], place: place, readyWhen: "Attaching",
                                              within: 90 * session.timeScale)
        }

        let present = moduleFunctions()
        let traced = entryPoints.filter { present.contains($0.function) }
        let tracer = try GraphTracer(functions: traced.map(\.function))
        let read = try exchange(device, receives: traced.contains { $0.path == "RX" })
        let dump = tcpdump.interrupt(grace: 5).output
        let graph = tracer.stop()
        device.close()
        session.reset()

        var traces: [(title: String, text: String)] = []
        for entry in traced {
            let lines = GraphTracer.firstCall(of: entry.function, in: graph)
                ?? ["no complete call of \(entry.function) in the trace"]
            traces.append(("\(entry.path): function_graph of \(entry.function), its first call "
                            + "(as trace-cmd record -p function_graph -g \(entry.function))",
                           lines.joined(separator: "\n")))
        }
        let frames = "read from /dev/xtun: " + (read.isEmpty ? "nothing" : read.map { "\($0.count)" }
            .joined(separator: ", ") + " bytes")
        traces.append(("\(tcpdumpWords.joined(separator: " ")) (xtun's address set to \(mac); \(frames))",
                       toolLines(dump)))

        if let probes {
            // The same exchange through a tap of Linux's tun, for the probes to compare.
            let tap = try FrameDevice.mustOpen(.tap(name: tunInterface))
            try prepare(tunInterface)
            let tunRead = try exchange(tap, receives: true)
            tap.close()
            let output = probes.interrupt(grace: 10 * session.timeScale).output
            traces.append(("bpftrace xtun_probes.bt, during the exchange through xtun and then through tun's "
                            + "\(tunInterface) (read from it: " + tunRead.map { "\($0.count)" }.joined(separator: ", ")
                            + " bytes)", toolLines(output)))
        } else if script != nil {
            traces.append(("bpftrace xtun_probes.bt", "not run: the debug kernel has no BPF (CONFIG_BPF_SYSCALL is off)"))
        }
        return traces
    }

    /// tun's tap for the comparison.
    static let tunInterface = "tap0"

    /// A tool's output without its start and end chatter.
    static func toolLines(_ output: String) -> String {
        output.split(separator: "\n").filter { line in
            !["tcpdump: verbose output suppressed", "listening on", "Attaching "].contains { line.hasPrefix($0) }
                && ![" captured", " received by filter", " dropped by kernel"].contains { line.hasSuffix($0) }
        }.joined(separator: "\n")
    }
}
