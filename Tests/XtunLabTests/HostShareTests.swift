import Foundation
import Testing
import XtunChecks
@testable import XtunLab

/// The guest runs Debian's tools from the host's root, shared over 9p.
@Suite("The host's tools in the guest", .serialized)
struct HostShareTests {
    @Test("9p's modules come with what they depend on, dependencies first", arguments: [KernelChoice.v6_1, .v6_12])
    func modulesInOrder(_ kernel: KernelChoice) throws {
        let provisioned = try Lab(paths: labPaths).kernel(for: .virtualMachine(kernel))
        let names = try GuestModules(kernel: provisioned).resolve(HostShare.modules).map(\.name)
        #expect(names.last == "9p", "\(names)")
        for (before, after) in [("9pnet", "9pnet_virtio"), ("netfs", "9p"), ("9pnet", "9p")] {
            let first = try #require(names.firstIndex(of: before), "\(names)")
            let second = try #require(names.firstIndex(of: after), "\(names)")
            #expect(first < second, "\(before) must load before \(after): \(names)")
        }
        if kernel == .v6_1 {
            // 6.1 has virtio-pci and fscache as modules; 6.12 builds them in.
            #expect(names.contains("virtio_pci") && names.contains("fscache"), "\(names)")
        }
    }

    @Test("an unknown module is a clear error")
    func unknownModule() throws {
        let provisioned = try Lab(paths: labPaths).kernel(for: .virtualMachine(.v6_1))
        #expect(throws: LabError.self) { try GuestModules(kernel: provisioned).resolve(["no_such_module"]) }
    }

    /// tcpdump captures xtun's ARP requests and bpftrace counts calls of
    /// its ndo_start_xmit, both Debian's programs run from the share.
    @Test("the guest runs the host's tcpdump and bpftrace on xtun", arguments: KernelChoice.known)
    func toolsRun(_ kernel: KernelChoice) throws {
        let debian = HostShare.runner
        let script = """
            insmod \(InitramfsBuilder.guestModule) && ip link set xtun up && ip addr add 10.99.0.1/24 dev xtun
            cat /dev/xtun > /dev/null &
            \(debian) tcpdump -c 2 -n -i xtun arp > /tmp/tcpdump.txt 2>&1 &
            dump=$!
            \(debian) bpftrace -e 'kprobe:xtun_net_start_xmit { @c++; if (@c == 2) { printf("bpftrace saw 2 xmits\\n"); exit(); } }' &
            trace=$!
            n=0
            while [ $n -lt 120 ] && { kill -0 $trace || kill -0 $dump; } 2>/dev/null; do
            	ping -c 1 -W 1 -I xtun 10.99.0.2 > /dev/null 2>&1
            	n=$((n + 1))
            done
            wait $trace
            sleep 1
            kill $dump 2>/dev/null
            cat /tmp/tcpdump.txt
            \(debian) trace-cmd --version
            """
        let run = try RunCache.shared.exclusive {
            try Lab(paths: labPaths).runScript(script, stage: .stage03, on: .virtualMachine(kernel), timeout: 240)
        }
        var expectations = ["ARP, Request who-has 10.99.0.2 tell 10.99.0.1", "trace-cmd version 3."]
        // The debug kernel is built without CONFIG_BPF_SYSCALL (so far): bpftrace cannot run there.
        if kernel != .debug { expectations.append("bpftrace saw 2 xmits") }
        for expected in expectations {
            #expect(run.console.contains(expected), "no \"\(expected)\" in the console:\n\(run.console)")
        }
    }
}
