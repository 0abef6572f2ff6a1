import Glibc

/// An open /dev/xtun.
final class XtunFile {
    static let path = "/dev/xtun"
    let fd: Int32
    private var closed = false

    /// Opens /dev/xtun; returns the errno on failure.
    static func open(nonblocking: Bool = false) -> Result<XtunFile, OpenError> {
        let fd = Glibc.open(path, O_RDWR | O_CLOEXEC | (nonblocking ? O_NONBLOCK : 0))
        return fd >= 0 ? .success(XtunFile(fd: fd)) : .failure(OpenError(code: errno))
    }

    /// Opens /dev/xtun or throws a check failure.
    static func mustOpen(nonblocking: Bool = false) throws -> XtunFile {
        switch open(nonblocking: nonblocking) {
        case .success(let file): return file
        case .failure(let error):
            throw Failure(expected: "open(\(path)) to succeed", got: Sys.errnoName(error.code))
        }
    }

    private init(fd: Int32) { self.fd = fd }

    deinit { close() }

    func close() {
        if !closed { Glibc.close(fd) }
        closed = true
    }

    /// read() with a buffer of `capacity` bytes: the bytes, or the errno.
    func read(capacity: Int = 65536) -> Result<[UInt8], OpenError> {
        var buffer = [UInt8](repeating: 0, count: max(capacity, 1))
        let count = Glibc.read(fd, &buffer, capacity)
        return count >= 0 ? .success(Array(buffer[0..<count])) : .failure(OpenError(code: errno))
    }

    /// write(); the count written, or the errno.
    func write(_ bytes: [UInt8]) -> Result<Int, OpenError> {
        let count = bytes.withUnsafeBufferPointer { Glibc.write(fd, $0.baseAddress, bytes.count) }
        return count >= 0 ? .success(count) : .failure(OpenError(code: errno))
    }

    /// poll() for `events`; the returned events (0 on timeout).
    func poll(_ events: Int16, timeout: Double) -> Int16 {
        var descriptor = pollfd(fd: fd, events: events, revents: 0)
        let ready = Glibc.poll(&descriptor, 1, Int32(timeout * 1000))
        return ready > 0 ? descriptor.revents : 0
    }

    /// Waits up to `timeout` for a frame and reads it.
    func nextFrame(timeout: Double, capacity: Int = 65536) -> [UInt8]? {
        guard poll(Int16(POLLIN), timeout: timeout) & Int16(POLLIN) != 0 else { return nil }
        if case .success(let bytes) = read(capacity: capacity) { return bytes }
        return nil
    }

    /// Reads frames until one satisfies `match` or `timeout` passes; returns it and
    /// how many others were skipped.
    func frame(matching match: ([UInt8]) -> Bool, timeout: Double) -> (frame: [UInt8]?, skipped: [[UInt8]]) {
        let deadline = Sys.now() + timeout
        var skipped: [[UInt8]] = []
        while Sys.now() < deadline {
            guard let frame = nextFrame(timeout: max(deadline - Sys.now(), 0.01)) else { break }
            if match(frame) { return (frame, skipped) }
            skipped.append(frame)
        }
        return (nil, skipped)
    }

    /// Reads without blocking until the queue is empty; returns the frames.
    func drain() -> [[UInt8]] {
        var frames: [[UInt8]] = []
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        defer { _ = fcntl(fd, F_SETFL, flags) }
        while case .success(let frame) = read() { frames.append(frame) }
        return frames
    }
}

struct OpenError: Error {
    let code: Int32
}
