import Foundation

/// Where a kernel comes from. Every kind of kernel the lab boots is one of
/// these, provisioned into the cache by `KernelCache`.
public enum KernelOrigin: Sendable, Hashable {
    /// Debian's packages in `suite`: the image and headers that these meta
    /// packages point at there, downloaded and unpacked, never installed.
    /// Resolved in the suite's own archive, not through the host's apt.
    case debian(suite: String, imageMeta: String, headersMeta: String)
    /// Built here, once, from a Debian source package with the lab's own
    /// configuration (`KernelRecipe`): the debug kernel.
    case built(KernelRecipe)

    /// How a report and the cache name it.
    public var description: String {
        switch self {
        case .debian(let suite, _, _): "Debian \(suite)"
        case .built(let recipe): recipe.description
        }
    }
}

/// A kernel the lab tests on, as named on the command line.
public struct KernelChoice: Sendable, Hashable, CustomStringConvertible {
    /// "6.1", "6.12" or "debug", as given to `--kernel`.
    public let label: String
    public let origin: KernelOrigin
    /// How many times slower than a stock kernel it runs its checks: every
    /// wait in the agent and the VM's time limit are this many times longer.
    public var slowdown = 1

    /// Debian 12's own kernel.
    public static let v6_1 = KernelChoice(
        label: "6.1", origin: .debian(suite: "bookworm", imageMeta: "linux-image-amd64",
                                      headersMeta: "linux-headers-amd64"))
    /// The 6.12 that Debian 12 ships next to it (`+deb12`), as on Debian 13.
    public static let v6_12 = KernelChoice(
        label: "6.12", origin: .debian(suite: "bookworm", imageMeta: "linux-image-6.12-amd64",
                                       headersMeta: "linux-headers-6.12-amd64"))
    /// Debian 12's 6.1 source, built with KASAN, kmemleak, lockdep and fault injection.
    public static let debug = KernelChoice(label: "debug", origin: .built(.debug), slowdown: 4)

    /// What `--kernel all` checks: the kernels the book was written on.
    public static let all = [v6_1, v6_12]
    /// Every kernel `--kernel` can name.
    public static let known = all + [debug]

    public static func named(_ label: String) -> KernelChoice? { known.first { $0.label == label } }

    public var description: String { label }

    /// Whether it is a kernel the lab built with its checkers (lockdep, kmemleak, fault injection).
    public var isDebug: Bool { if case .built = origin { true } else { false } }
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
    /// Where it came from (`KernelOrigin.description`); a cache entry from elsewhere is not reused.
    public var origin: String? = nil

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
              kernel.origin == choice.origin.description,
              FileManager.default.fileExists(atPath: kernel.vmlinuz),
              FileManager.default.fileExists(atPath: kernel.headers + "/Makefile") else { return nil }
        return kernel
    }

    /// Where kernel packages come from: `cache/apt/<suite>`.
    public var cacheRoot: URL { directory.deletingLastPathComponent() }

    /// The cached kernel, downloading it first if needed.
    public func provision(_ choice: KernelChoice, progress: (String) -> Void = { _ in }) throws -> ProvisionedKernel {
        if let kernel = cached(choice) { return kernel }
        return try FileLock.holding(directory.appendingPathComponent("\(choice.label).lock")) {
            if let kernel = cached(choice) { return kernel }
            switch choice.origin {
            case .debian(let suite, let imageMeta, let headersMeta):
                let archive = DebianArchive(suite: suite, cache: cacheRoot)
                return try download(choice, from: archive, imageMeta: imageMeta, headersMeta: headersMeta,
                                    progress: progress)
            case .built(let recipe):
                let kernel = try KernelBuild(recipe: recipe, home: directory.appendingPathComponent(choice.label),
                                             archive: DebianArchive(suite: recipe.suite, cache: cacheRoot))
                    .build(progress: progress)
                try save(kernel, for: choice)
                return kernel
            }
        }
    }

    func download(_ choice: KernelChoice, from archive: DebianArchive, imageMeta: String, headersMeta: String,
                  progress: (String) -> Void) throws -> ProvisionedKernel {
        for tool in ["apt-get", "apt-cache", "dpkg-deb"] where Shell.which(tool) == nil {
            throw LabError.environment("\(tool) is missing: kernels come from Debian's archive (./setup installs it)")
        }
        try archive.update(progress: progress)
        progress("resolving Debian \(archive.suite)'s \(choice.label) kernel packages")
        let image = try archive.dependency(of: imageMeta, matching: "linux-image-")
        let headers = try archive.dependency(of: headersMeta, matching: "linux-headers-")
        let common = try archive.dependency(of: headers.name, matching: "linux-headers-", suffix: "-common")
        let kbuild = try archive.dependency(of: headers.name, matching: "linux-kbuild-")
        let packages = [image.name, headers.name, common.name, kbuild.name]

        let home = directory.appendingPathComponent(choice.label)
        let debs = home.appendingPathComponent("debs")
        let root = home.appendingPathComponent("root")
        try? FileManager.default.removeItem(at: home)
        try FileManager.default.createDirectory(at: debs, withIntermediateDirectories: true)
        progress("downloading \(packages.joined(separator: ", "))")
        for deb in try archive.download(packages, into: debs) {
            progress("unpacking \(deb.lastPathComponent)")
            try Shell.must(["dpkg-deb", "-x", deb.path, root.path])
        }
        try? FileManager.default.removeItem(at: debs)

        let release = String(image.name.dropFirst("linux-image-".count))
        let headersDir = root.appendingPathComponent("usr/src/\(headers.name)")
        try pointHeadersAtCommon(headersDir, common: root.appendingPathComponent("usr/src/\(common.name)"))
        let kernel = ProvisionedKernel(
            release: release, version: image.version,
            vmlinuz: root.appendingPathComponent("boot/vmlinuz-\(release)").path,
            headers: headersDir.path, packages: packages, origin: choice.origin.description)
        try save(kernel, for: choice)
        return kernel
    }

    func save(_ kernel: ProvisionedKernel, for choice: KernelChoice) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(kernel).write(to: manifestURL(choice))
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
}
