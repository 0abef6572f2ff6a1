import Glibc
import Synchronization
import XtunPackets

/// A `Responder` on a frame device: reads frames, writes its answers, until
/// stopped. The checks run it on a thread; `xtun-agent respond` runs it in
/// the foreground for the shell.
final class ResponderLoop: @unchecked Sendable {
    let device: FrameDevice
    let responder: Responder
    /// Set by `stop()`, read by the loop between polls.
    private let stopping = Atomic<Bool>(false)

    /// What it did, counted by kind; read once the loop has returned.
    struct Tally: Sendable, CustomStringConvertible {
        var arp = 0, ping = 0, udp = 0, ignored = 0, writeErrors = 0
        var description: String {
            "answered \(arp) ARP, \(ping) ping, \(udp) UDP; ignored \(ignored)"
                + (writeErrors > 0 ? "; \(writeErrors) writes failed" : "")
        }
    }

    init(device: FrameDevice, responder: Responder = Responder()) {
        self.device = device
        self.responder = responder
    }

    func stop() { stopping.store(true, ordering: .relaxed) }

    /// Answers until `stop()`; `log` gets one line per frame when given.
    func run(log: ((String) -> Void)? = nil) -> Tally {
        var tally = Tally()
        while !stopping.load(ordering: .relaxed) {
            guard let frame = device.nextFrame(timeout: 0.05) else { continue }
            let (answer, handling) = responder.answer(frame)
            switch handling {
            case .answeredARP: tally.arp += 1
            case .answeredPing: tally.ping += 1
            case .echoedUDP: tally.udp += 1
            case .ignored: tally.ignored += 1
            }
            if let answer, case .failure = device.write(answer) { tally.writeErrors += 1 }
            log?("\(frame.count) bytes: \(handling)")
        }
        return tally
    }
}
