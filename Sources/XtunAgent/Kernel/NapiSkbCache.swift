import CLinux
import Glibc
import XtunPackets

/// 6.12 keeps up to 64 freed skb heads per CPU for NAPI to reuse
/// (napi_skb_cache_put(), net/core/skbuff.c:1453-1473 in 6.12; TCP's
/// receive path frees into it through kfree_skb_napi_cache(), :7216), and
/// SLUB still counts them as allocated, by whoever allocated them first.
/// After a TCP transfer through xtun they are xtun's write() skbs, and the
/// leak check would take them for a leak. Nothing in the idle guest takes
/// them back, so this makes NAPI allocate: on each CPU in turn, frames
/// written to a tap of tun.ko with IFF_NAPI_FRAGS, whose writes take their
/// skb from that CPU's cache (napi_get_frags()). No protocol takes those
/// frames, and the stack frees them to the slab.
enum NapiSkbCache {
    static let device = "ctnapi"
    /// More than a cache holds.
    static let frames = 2 * 64

    /// Empties every CPU's cache, if tun.ko is there to do it; what went wrong otherwise.
    @discardableResult
    static func drain() -> String? {
        guard Sys.exists(TunNode.tun) else { return "no tun.ko" }
        let cpus = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        for cpu in 0..<max(cpus, 1) {
            let worker = Worker { () -> String? in drain(onCPU: Int32(cpu)) }
            if let problem = worker.join(timeout: 10) ?? "CPU \(cpu) did not finish" { return problem }
        }
        return nil
    }

    private static func drain(onCPU cpu: Int32) -> String? {
        guard xtun_pin_to_cpu(cpu) == 0 else { return "cannot run on CPU \(cpu): \(Errno.current)" }
        let fd = open(TunNode.tun, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return "open \(TunNode.tun): \(Errno.current)" }
        defer { close(fd) }
        if case .failure(let error) = TunNode.setInterface(
            fd: fd, name: device, flags: IFF_TAP | IFF_NO_PI | IFF_NAPI | IFF_NAPI_FRAGS) {
            return "TUNSETIFF \(device) with IFF_NAPI_FRAGS: \(error)"
        }
        let up = Command.run(["ip", "link", "set", device, "up"])
        guard up.succeeded else { return "ip link set \(device) up: \(up.summary)" }
        let frame = Frames.unhandled(to: MACAddress.broadcast, length: 64)
        for _ in 0..<frames {
            let written = frame.withUnsafeBufferPointer { Glibc.write(fd, $0.baseAddress, $0.count) }
            guard written == frame.count else { return "write to \(device): \(Errno.current)" }
        }
        return nil
    }
}
