import Glibc

/// The errno of one failed system call, captured when it failed: a later
/// call may change `errno`, so code passes this value on, never re-reads it.
struct Errno: Error, Equatable, CustomStringConvertible {
    let code: Int32

    /// The calling thread's errno right now: use it only on the line of the failing call.
    static var current: Errno { Errno(code: errno) }

    static let names: [Int32: String] = [
        EPERM: "EPERM", ENOENT: "ENOENT", EINTR: "EINTR", EIO: "EIO", EBADF: "EBADF",
        EAGAIN: "EAGAIN", ENOMEM: "ENOMEM", EFAULT: "EFAULT", EBUSY: "EBUSY",
        EEXIST: "EEXIST", ENODEV: "ENODEV", EINVAL: "EINVAL", ENOSPC: "ENOSPC",
        EMSGSIZE: "EMSGSIZE", ENOBUFS: "ENOBUFS", ENETDOWN: "ENETDOWN",
        ENETUNREACH: "ENETUNREACH", EHOSTUNREACH: "EHOSTUNREACH", ENXIO: "ENXIO",
        EPIPE: "EPIPE", ENOTTY: "ENOTTY", EBADFD: "EBADFD", EOPNOTSUPP: "EOPNOTSUPP", E2BIG: "E2BIG",
        EACCES: "EACCES", EADDRNOTAVAIL: "EADDRNOTAVAIL",
    ]

    /// `EAGAIN`: the name alone, for tables.
    var name: String { Errno.names[code] ?? "errno \(code)" }

    /// `EAGAIN (Resource temporarily unavailable)`.
    var description: String {
        "\(Errno.names[code] ?? "errno \(code)") (\(String(cString: strerror(code))))"
    }
}
