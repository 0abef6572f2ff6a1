import Foundation

/// The image QEMU boots a kernel from. A bzImage first decompresses itself,
/// which under TCG costs seconds at every boot; a kernel built with
/// CONFIG_PVH=y can instead be entered directly as the uncompressed ELF
/// `vmlinux` (QEMU's `-kernel` loads an ELF with the PVH entry note), so the
/// lab unpacks that once, next to the bzImage, and boots it.
///
/// The bzImage says where its compressed kernel is: the setup header's
/// `payload_offset` and `payload_length` (boot protocol 2.08+, at 0x248 and
/// 0x24c, counted from the protected-mode code after the `setup_sects` + 1
/// sectors; Documentation/x86/boot.rst in 6.1, arch/x86/boot.rst in 6.12).
/// The kernel's build appends the uncompressed size to xz and zstd payloads
/// (`size_append`, scripts/Makefile.lib), which the decompressors must not see.
public struct BootImage: Sendable {
    public let kernel: ProvisionedKernel

    public init(kernel: ProvisionedKernel) { self.kernel = kernel }

    /// Where the unpacked vmlinux lives.
    var unpacked: URL { URL(fileURLWithPath: kernel.vmlinuz + ".vmlinux") }

    /// The vmlinux when the kernel has PVH and it could be unpacked, else
    /// the bzImage (slower to boot, same kernel).
    public func path() -> String {
        guard supportsPVH, let vmlinux = try? unpackedPath() else { return kernel.vmlinuz }
        return vmlinux
    }

    /// The unpacked vmlinux, unpacking it first when the bzImage is newer.
    func unpackedPath() throws -> String {
        if !isCurrent(unpacked) { try unpack() }
        return unpacked.path
    }

    /// CONFIG_PVH=y in the configuration shipped with the headers (Debian's
    /// and the lab's debug build both have `.config` there).
    var supportsPVH: Bool {
        guard let config = try? String(contentsOfFile: kernel.headers + "/.config", encoding: .utf8) else {
            return false
        }
        return config.split(separator: "\n").contains("CONFIG_PVH=y")
    }

    /// Unpacked after the bzImage was last written.
    func isCurrent(_ file: URL) -> Bool {
        let manager = FileManager.default
        guard let made = (try? manager.attributesOfItem(atPath: file.path))?[.modificationDate] as? Date,
              let source = (try? manager.attributesOfItem(atPath: kernel.vmlinuz))?[.modificationDate] as? Date
        else { return false }
        return made >= source
    }

    /// Decompresses the payload with Debian's tool for its format into a
    /// temporary file, checks it is an ELF, and moves it into place (runs
    /// at the same time each write their own file; the last rename wins).
    func unpack() throws {
        let image = try Data(contentsOf: URL(fileURLWithPath: kernel.vmlinuz))
        let payload = try Self.payload(of: image)
        let format = try Compression(payload)
        let scratch = unpacked.deletingLastPathComponent()
            .appendingPathComponent(".vmlinux-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))")
        let input = scratch.appendingPathExtension("in"), output = scratch.appendingPathExtension("out")
        defer {
            try? FileManager.default.removeItem(at: input)
            try? FileManager.default.removeItem(at: output)
        }
        try format.stream(of: payload).write(to: input)
        try Shell.must(["sh", "-c", "\(format.command) < '\(input.path)' > '\(output.path)'"])
        let elf = try FileHandle(forReadingFrom: output).read(upToCount: 4)
        guard elf == Data([0x7f, 0x45, 0x4c, 0x46]) else {
            throw LabError.environment("\(kernel.vmlinuz): its payload did not unpack to an ELF vmlinux")
        }
        guard rename(output.path, unpacked.path) == 0 else {
            throw LabError.environment("cannot move the unpacked vmlinux to \(unpacked.path): errno \(errno)")
        }
    }

    /// The compressed kernel inside a bzImage.
    static func payload(of image: Data) throws -> Data {
        func word(_ offset: Int) -> UInt32 {
            image[image.startIndex + offset..<image.startIndex + offset + 4].reversed()
                .reduce(0) { $0 << 8 | UInt32($1) }
        }
        guard image.count > 0x250, word(0x202) == 0x5372_6448 /* "HdrS" */,
              UInt16(truncatingIfNeeded: word(0x206)) >= 0x208 else {
            throw LabError.environment("not a bzImage with boot protocol 2.08 or later")
        }
        let setupSectors = image[image.startIndex + 0x1f1] == 0 ? 4 : Int(image[image.startIndex + 0x1f1])
        let start = (setupSectors + 1) * 512 + Int(word(0x248))
        let length = Int(word(0x24c))
        guard length > 0, start + length <= image.count else {
            throw LabError.environment("the bzImage's payload lies outside it")
        }
        return image.subdata(in: image.startIndex + start..<image.startIndex + start + length)
    }

    /// The payload formats Debian's kernels use, told by their magic bytes.
    enum Compression {
        case xz, zstd, gzip

        init(_ payload: Data) throws {
            let head = Array(payload.prefix(6))
            if head == [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] {
                self = .xz
            } else if head.starts(with: [0x28, 0xb5, 0x2f, 0xfd]) {
                self = .zstd
            } else if head.starts(with: [0x1f, 0x8b]) {
                self = .gzip
            } else {
                throw LabError.environment("the bzImage's payload is in a format the lab does not unpack")
            }
        }

        /// What the decompressor reads: without the appended size where there is one.
        func stream(of payload: Data) -> Data {
            self == .gzip ? payload : payload.dropLast(4)
        }

        /// Standard input to standard output.
        var command: String {
            switch self {
            case .xz: "xz -dc --single-stream"
            case .zstd: "zstd -dcq"
            case .gzip: "gzip -dc"
            }
        }
    }
}
