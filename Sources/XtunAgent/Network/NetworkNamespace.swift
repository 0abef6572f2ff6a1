import CLinux
import Glibc

/// A network namespace of the agent's own, held by a file descriptor: it
/// lives until `close()` (and whatever sockets and devices are in it go).
/// Network namespaces belong to threads: the work done inside one runs on a
/// thread that entered it first, and the processes it starts inherit it.
final class NetworkNamespace: @unchecked Sendable {
    let name: String
    private let fd: Int32

    private init(name: String, fd: Int32) {
        self.name = name
        self.fd = fd
    }

    deinit { Glibc.close(fd) }

    /// A new namespace with its loopback up.
    static func make(_ name: String) throws -> NetworkNamespace {
        let made = Worker { () -> Result<Int32, Failure> in
            guard xtun_unshare_network() == 0 else {
                return .failure(Failure(expected: "unshare(CLONE_NEWNET)", got: "\(Errno.current)"))
            }
            let fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                return .failure(Failure(expected: "/proc/thread-self/ns/net to open", got: "\(Errno.current)"))
            }
            return .success(fd)
        }
        guard let result = made.join(timeout: 10) else {
            throw Failure(expected: "a new network namespace", got: "unshare() did not return in 10 s")
        }
        let namespace = NetworkNamespace(name: name, fd: try result.get())
        _ = try namespace.run { try Command.must(["ip", "link", "set", "lo", "up"]) }
        return namespace
    }

    /// A namespace someone else made and named, e.g. `ip netns add`'s
    /// `/run/netns/NAME` (in the chroot of Debian's programs: /host/run/netns).
    static func named(_ name: String, at path: String) throws -> NetworkNamespace {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(expected: "\(path) to open", got: "\(Errno.current)") }
        return NetworkNamespace(name: name, fd: fd)
    }

    /// Runs `body` on a thread inside the namespace and waits for it.
    func run<T>(timeout: Double = 20, _ body: @escaping () throws -> T) throws -> T {
        guard let result = start(body).join(timeout: timeout) else {
            throw Failure(expected: "work in namespace \(name) to end within \(Int(timeout)) s", got: "still running")
        }
        return try result.get()
    }

    /// Starts `body` on a thread inside the namespace.
    func start<T>(_ body: @escaping () throws -> T) -> Worker<Result<T, Error>> {
        Worker { [fd, name] in
            guard xtun_enter_network(fd) == 0 else {
                return .failure(Failure(expected: "setns() into \(name)", got: "\(Errno.current)"))
            }
            return Result { try body() }
        }
    }

    /// TCP sockets of the namespace that are not closed or in TIME-WAIT
    /// (`/proc/net/tcp`: state 01-0B, 06 being TIME-WAIT).
    func liveTCPSockets() throws -> Int {
        try run {
            let table = Sys.read("/proc/thread-self/net/tcp") ?? ""
            return table.split(separator: "\n").dropFirst().filter { line in
                let fields = line.split(separator: " ")
                return fields.count > 3 && fields[3] != "06"
            }.count
        }
    }
}
