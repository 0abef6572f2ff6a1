import Glibc
@testable import XtunAgent
import XtunChecks

/// A reporter whose messages a test reads back.
final class CapturedReport {
    let reporter: Reporter
    private let readFD: Int32

    init() {
        var fds: [Int32] = [0, 0]
        precondition(pipe(&fds) == 0)
        _ = fcntl(fds[0], F_SETFL, O_NONBLOCK)
        readFD = fds[0]
        reporter = Reporter(fd: fds[1])
    }

    deinit {
        close(readFD)
        close(reporter.fd)
    }

    /// Every message sent so far.
    func messages() -> [WireMessage] {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(readFD, &buffer, buffer.count)
            if count <= 0 { break }
            data += buffer[0..<count]
        }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap { WireMessage(line: $0) }
    }

    /// The outcome reported for `expectation`.
    func outcome(_ messages: [WireMessage], _ expectation: XtunChecks.Expectation) -> Outcome? {
        messages.lazy.compactMap { message -> Outcome? in
            if case .result(let id, let outcome) = message, id == expectation.id { return outcome }
            return nil
        }.first
    }
}
