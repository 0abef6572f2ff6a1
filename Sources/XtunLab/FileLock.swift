import Foundation

/// An exclusive flock(2) on a file, so that two check-step processes (or two
/// test suites) never download, unpack or build into the same place at once.
struct FileLock {
    private let fd: Int32

    /// Blocks until the lock on `url` is held.
    init(_ url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(),
                                                withIntermediateDirectories: true)
        fd = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LabError.environment("cannot open lock file \(url.path)") }
        while flock(fd, LOCK_EX) != 0 && errno == EINTR {}
    }

    /// Runs `body` holding the lock on `url`.
    static func holding<T>(_ url: URL, _ body: () throws -> T) throws -> T {
        let lock = try FileLock(url)
        defer { lock.release() }
        return try body()
    }

    func release() {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
