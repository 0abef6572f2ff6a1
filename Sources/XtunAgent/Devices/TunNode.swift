import CLinux
import Glibc
import XtunChecks

/// tun's control calls on a file descriptor of `/dev/net/tun` or, from
/// stage 06, `/dev/xtun`: the ioctls of `include/uapi/linux/if_tun.h`, each
/// returning what the kernel returned.
enum TunNode {
    /// Linux's own tun driver.
    static let tun = "/dev/net/tun"

    /// `TUNSETIFF`: the name the device got, or the errno.
    static func setInterface(fd: Int32, name: String, flags: Int32) -> Result<String, Errno> {
        var request = interfaceRequest(name: name)
        request.ifr_ifru.ifru_flags = Int16(truncatingIfNeeded: flags)
        guard ioctl(fd, xtun_TUNSETIFF, &request) == 0 else { return .failure(.current) }
        return .success(interfaceName(request))
    }

    /// `TUNGETIFF`: the device's name and flags.
    static func getInterface(fd: Int32) -> Result<(name: String, flags: Int32), Errno> {
        var request = ifreq()
        guard ioctl(fd, xtun_TUNGETIFF, &request) == 0 else { return .failure(.current) }
        return .success((interfaceName(request), Int32(UInt16(bitPattern: request.ifr_ifru.ifru_flags))))
    }

    /// `TUNGETFEATURES`: the TUNSETIFF flags the driver knows.
    static func features(fd: Int32) -> Result<UInt32, Errno> {
        var features: UInt32 = 0
        guard ioctl(fd, xtun_TUNGETFEATURES, &features) == 0 else { return .failure(.current) }
        return .success(features)
    }

    /// An ioctl whose argument is a number (TUNSETPERSIST, TUNSETOWNER, TUNSETGROUP).
    static func set(fd: Int32, _ request: UInt, value: UInt) -> Result<Void, Errno> {
        xtun_ioctl_value(fd, request, value) == 0 ? .success(()) : .failure(.current)
    }

    /// An ioctl whose argument points to an int (TUNSETCARRIER, TUNSETSNDBUF).
    static func set(fd: Int32, _ request: UInt, pointee: Int32) -> Result<Void, Errno> {
        var value = pointee
        return ioctl(fd, request, &value) == 0 ? .success(()) : .failure(.current)
    }

    /// An ioctl that returns an int (TUNGETSNDBUF).
    static func get(fd: Int32, _ request: UInt) -> Result<Int32, Errno> {
        var value: Int32 = 0
        return ioctl(fd, request, &value) == 0 ? .success(value) : .failure(.current)
    }

    /// `SIOCGIFHWADDR` on the file: the address family and the first six bytes.
    static func hardwareAddress(fd: Int32) -> Result<(family: UInt16, bytes: [UInt8]), Errno> {
        var request = ifreq()
        guard ioctl(fd, UInt(SIOCGIFHWADDR), &request) == 0 else { return .failure(.current) }
        let address = request.ifr_ifru.ifru_hwaddr
        let bytes = withUnsafeBytes(of: address.sa_data) { Array($0.prefix(6)) }
        return .success((address.sa_family, bytes))
    }

    /// `SIOCSIFHWADDR` on the file, with an Ethernet address.
    static func setHardwareAddress(fd: Int32, _ bytes: [UInt8]) -> Result<Void, Errno> {
        var request = ifreq()
        request.ifr_ifru.ifru_hwaddr.sa_family = sa_family_t(ARPHRD_ETHER)
        withUnsafeMutableBytes(of: &request.ifr_ifru.ifru_hwaddr.sa_data) { buffer in
            for (index, byte) in bytes.prefix(buffer.count).enumerated() { buffer[index] = byte }
        }
        return ioctl(fd, UInt(SIOCSIFHWADDR), &request) == 0 ? .success(()) : .failure(.current)
    }

    /// Creates `name` with `flags`, makes it persistent and closes the file:
    /// `tunctl -t` or `ip tuntap add` for xtun. Returns why not, or nil.
    static func createPersistent(node: String, name: String, flags: Int32) -> String? {
        let fd = open(node, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return "open \(node): \(Errno.current)" }
        defer { close(fd) }
        if case .failure(let error) = setInterface(fd: fd, name: name, flags: flags) {
            return "TUNSETIFF \(name) on \(node): \(error)"
        }
        if case .failure(let error) = set(fd: fd, xtun_TUNSETPERSIST, value: 1) {
            return "TUNSETPERSIST on \(node): \(error)"
        }
        return nil
    }

    private static func interfaceRequest(name: String) -> ifreq {
        var request = ifreq()
        withUnsafeMutableBytes(of: &request.ifr_ifrn.ifrn_name) { buffer in
            for (index, byte) in name.utf8.prefix(buffer.count - 1).enumerated() { buffer[index] = byte }
        }
        return request
    }

    private static func interfaceName(_ request: ifreq) -> String {
        withUnsafeBytes(of: request.ifr_ifrn.ifrn_name) { buffer in
            String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
