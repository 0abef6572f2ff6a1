import Glibc
import XtunChecks

/// Writes wire messages to the host: the second serial port in the VM,
/// standard output on the host.
struct Reporter {
    let fd: Int32

    /// Opens the destination; standard output when it cannot be opened.
    init(_ destination: ReportDestination) {
        switch destination {
        case .standardOutput: fd = STDOUT_FILENO
        case .file(let path):
            let opened = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC)
            fd = opened >= 0 ? opened : STDOUT_FILENO
        }
    }

    init(fd: Int32) { self.fd = fd }

    func send(_ message: WireMessage) {
        let bytes = Array((message.line + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBufferPointer {
                Glibc.write(fd, $0.baseAddress, $0.count)
            }
            if count <= 0 { break }
            offset += count
        }
    }
}
