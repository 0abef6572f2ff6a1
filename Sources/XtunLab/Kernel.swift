import Foundation

/// Where a kernel comes from. Every kind of kernel the lab boots is one of
/// these, provisioned into the cache by `KernelCache`.
public enum KernelOrigin: Sendable, Hashable {
    /// Debian's packages: the image and headers that these meta packages
    /// point at, downloaded and unpacked, never installed.
    case debianPackages(imageMeta: String, headersMeta: String)
}

/// A kernel the lab tests on, as named on the command line.
public struct KernelChoice: Sendable, Hashable, CustomStringConvertible {
    /// "6.1" or "6.12", as given to `--kernel`.
    public let label: String
    public let origin: KernelOrigin

    public static let v6_1 = KernelChoice(
        label: "6.1", origin: .debianPackages(imageMeta: "linux-image-amd64", headersMeta: "linux-headers-amd64"))
    public static let v6_12 = KernelChoice(
        label: "6.12", origin: .debianPackages(imageMeta: "linux-image-6.12-amd64",
                                               headersMeta: "linux-headers-6.12-amd64"))
    public static let all = [v6_1, v6_12]

    public static func named(_ label: String) -> KernelChoice? { all.first { $0.label == label } }

    public var description: String { label }
}

/// A kernel image and its headers, extracted into the cache.
public struct ProvisionedKernel: Sendable, Codable, Hashable {
    /// `uname -r` of the kernel, e.g. 6.1.0-56-amd64.
    public let release: String
    /// Debian package version, e.g. 6.1.192-2.
    public let version: String
    public let vmlinuz: String
    /// The directory to pass as KDIR.
    public let headers: String
    public let packages: [String]
}

/// Downloads Debian kernels with `apt-get download` and unpacks them with
/// `dpkg-deb -x` into the cache; never touches /boot or /lib/modules.
public struct KernelCache: Sendable {
    public let directory: URL

    public init(directory: URL) { self.directory = directory }

    func manifestURL(_ choice: KernelChoice) -> URL {
        directory.appendingPathComponent(choice.label).appendingPathComponent("kernel.json")
    }

    /// The cached kernel, if it was provisioned before.
    public func cached(_ choice: KernelChoice) -> ProvisionedKernel? {
        guard let data = try? Data(contentsOf: manifestURL(choice)),
              let kernel = try? JSONDecoder().decode(ProvisionedKernel.self, from: data),
              FileManager.default.fileExists(atPath: kernel.vmlinuz),
              FileManager.default.fileExists(atPath: kernel.headers + "/Makefile") else { return nil }
        return kernel
    }

    /// The cached kernel, downloading it first if needed.
    public func provision(_ choice: KernelChoice, progress: (String) -> Void = { _ in }) throws -> ProvisionedKernel {
        if let kernel = cached(choice) { return kernel }
        return try FileLock.holding(directory.appendingPathComponent("\(choice.label).lock")) {
            if let kernel = cached(choice) { return kernel }
            switch choice.origin {
            case .debianPackages(let imageMeta, let headersMeta):
                return try download(choice, imageMeta: imageMeta, headersMeta: headersMeta, progress: progress)
            }
        }
    }

    func download(_ choice: KernelChoice, imageMeta: String, headersMeta: String,
                  progress: (String) -> Void) throws -> ProvisionedKernel {
        for tool in ["apt-get", "apt-cache", "dpkg-deb"] where Shell.which(tool) == nil {
            throw LabError.environment("\(tool) is missing: kernels come from Debian's archive (run ./setup)")
        }
        progress("resolving Debian's \(choice.label) kernel packages")
        let image = try dependency(of: imageMeta, matching: "linux-image-")
        let headers = try dependency(of: headersMeta, matching: "linux-headers-")
        let common = try dependency(of: headers.name, matching: "linux-headers-", suffix: "-common")
        let kbuild = try dependency(of: headers.name, matching: "linux-kbuild-")
        let packages = [image.name, headers.name, common.name, kbuild.name]

        let home = directory.appendingPathComponent(choice.label)
        let debs = home.appendingPathComponent("debs")
        let root = home.appendingPathComponent("root")
        try? FileManager.default.removeItem(at: home)
        try FileManager.default.createDirectory(at: debs, withIntermediateDirectories: true)
        progress("downloading \(packages.joined(separator: ", "))")
        try Shell.must(["apt-get", "download", "-q"] + packages, in: debs)
        for deb in try FileManager.default.contentsOfDirectory(atPath: debs.path) where deb.hasSuffix(".deb") {
            progress("unpacking \(deb)")
            try Shell.must(["dpkg-deb", "-x", debs.appendingPathComponent(deb).path, root.path])
        }
        try? FileManager.default.removeItem(at: debs)

        let release = String(image.name.dropFirst("linux-image-".count))
        let headersDir = root.appendingPathComponent("usr/src/\(headers.name)")
        try pointHeadersAtCommon(headersDir, common: root.appendingPathComponent("usr/src/\(common.name)"))
        let kernel = ProvisionedKernel(
            release: release, version: image.version,
            vmlinuz: root.appendingPathComponent("boot/vmlinuz-\(release)").path,
            headers: headersDir.path, packages: packages)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(kernel).write(to: manifestURL(choice))
        return kernel
    }

    /// Debian's arch headers include the common headers by absolute path
    /// (`include /usr/src/linux-headers-…-common/Makefile`); point it at the copy in the cache.
    func pointHeadersAtCommon(_ headers: URL, common: URL) throws {
        let makefile = headers.appendingPathComponent("Makefile")
        let text = try String(contentsOf: makefile, encoding: .utf8)
        let fixed = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasPrefix("include ") && line.hasSuffix("-common/Makefile")
                ? "include \(common.path)/Makefile" : String(line)
        }.joined(separator: "\n")
        try fixed.write(to: makefile, atomically: true, encoding: .utf8)
    }

    struct Package {
        let name: String
        let version: String
    }

    /// The first dependency of `package` whose name starts with `prefix`.
    func dependency(of package: String, matching prefix: String, suffix: String = "") throws -> Package {
        let show = try Shell.run(["apt-cache", "show", "--no-all-versions", package])
        guard show.succeeded else {
            throw LabError.environment("apt-cache knows no package \(package): run ./setup (apt-get update)")
        }
        let fields = show.output.split(separator: "\n")
        let depends = fields.first { $0.hasPrefix("Depends:") }?.dropFirst("Depends:".count) ?? ""
        for alternative in depends.split(whereSeparator: { $0 == "," || $0 == "|" }) {
            let words = alternative.split(separator: " ")
            guard let name = words.first.map(String.init), name.hasPrefix(prefix), name.hasSuffix(suffix),
                  name != package else { continue }
            var version = ""
            if let open = alternative.firstIndex(of: "("), let close = alternative.firstIndex(of: ")") {
                version = alternative[alternative.index(after: open)..<close]
                    .split(separator: " ").last.map(String.init) ?? ""
            }
            return Package(name: name, version: version)
        }
        throw LabError.environment("cannot find a \(prefix)*\(suffix) dependency of \(package) in apt-cache")
    }
}
