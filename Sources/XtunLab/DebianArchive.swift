import Foundation

/// One Debian suite's archive, seen through apt with a configuration and
/// state of its own under the cache: what it resolves and downloads is the
/// same on every host, whatever the host's own apt sources say (a Debian 13
/// host's `linux-image-amd64` is 6.12+deb13; bookworm's is 6.1).
public struct DebianArchive: Sendable, Hashable {
    /// `bookworm`.
    public let suite: String
    /// Where its apt configuration, lists and downloads live.
    public let directory: URL

    public static let mirror = "http://deb.debian.org"
    /// Debian's archive keys, from the debian-archive-keyring package (./setup installs it).
    public static let keyring = "/usr/share/keyrings/debian-archive-keyring.gpg"

    public init(suite: String, cache: URL) {
        self.suite = suite
        directory = cache.appendingPathComponent("apt/\(suite)")
    }

    /// The suite, its updates and its security archive, main only.
    var sourcesList: String {
        let signed = "[arch=amd64 signed-by=\(DebianArchive.keyring)]"
        return """
            deb \(signed) \(DebianArchive.mirror)/debian \(suite) main
            deb \(signed) \(DebianArchive.mirror)/debian \(suite)-updates main
            deb \(signed) \(DebianArchive.mirror)/debian-security \(suite)-security main

            """
    }

    /// apt options that replace every host setting that could change a resolution.
    var options: [String] {
        let path = directory.path
        return [
            "-o", "Dir::Etc::SourceList=\(path)/sources.list",
            "-o", "Dir::Etc::SourceParts=\(path)/sources.list.d",
            "-o", "Dir::Etc::Preferences=\(path)/preferences",
            "-o", "Dir::Etc::PreferencesParts=\(path)/preferences.d",
            "-o", "Dir::State=\(path)/state",
            "-o", "Dir::State::status=\(path)/state/status",
            "-o", "Dir::Cache=\(path)/cache",
            "-o", "APT::Architecture=amd64",
            "-o", "APT::Architectures=amd64",
            "-o", "APT::Sandbox::User=root",
            "-o", "Acquire::Languages=none",
        ]
    }

    /// Writes the configuration and fetches the suite's package lists.
    public func update(progress: (String) -> Void = { _ in }) throws {
        guard FileManager.default.fileExists(atPath: DebianArchive.keyring) else {
            throw LabError.environment("\(DebianArchive.keyring) is missing: install debian-archive-keyring (./setup does)")
        }
        let manager = FileManager.default
        for folder in ["sources.list.d", "preferences.d", "state/lists/partial", "cache/archives/partial"] {
            try manager.createDirectory(at: directory.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        try sourcesList.write(to: directory.appendingPathComponent("sources.list"), atomically: true, encoding: .utf8)
        try "".write(to: directory.appendingPathComponent("preferences"), atomically: true, encoding: .utf8)
        try "".write(to: directory.appendingPathComponent("state/status"), atomically: true, encoding: .utf8)
        progress("reading Debian \(suite)'s package lists")
        let result = try Shell.run(["apt-get"] + options + ["-q", "update"])
        guard result.succeeded else {
            throw LabError.environment("cannot read Debian \(suite)'s package lists from \(DebianArchive.mirror) "
                + "(apt-get update failed):\n" + result.output.split(separator: "\n").suffix(5).joined(separator: "\n"))
        }
    }

    /// `apt-cache show` of the candidate version, or nil if the suite has no such package.
    func show(_ package: String) throws -> String? {
        let result = try Shell.run(["apt-cache"] + options + ["show", "--no-all-versions", package])
        return result.succeeded && !result.output.isEmpty ? result.output : nil
    }

    /// A package's name and candidate version.
    struct Package: Equatable {
        let name: String
        let version: String
    }

    /// The candidate version of `package`.
    func version(of package: String) throws -> Package {
        guard let text = try show(package),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Version: ") }) else {
            throw LabError.environment("Debian \(suite) has no package \(package)")
        }
        return Package(name: package, version: String(line.dropFirst("Version: ".count)))
    }

    /// The first dependency of `package` whose name starts with `prefix` (and ends with `suffix`).
    func dependency(of package: String, matching prefix: String, suffix: String = "") throws -> Package {
        guard let text = try show(package) else {
            throw LabError.environment("Debian \(suite) has no package \(package)")
        }
        let depends = text.split(separator: "\n").first { $0.hasPrefix("Depends:") }?.dropFirst("Depends:".count) ?? ""
        for alternative in depends.split(whereSeparator: { $0 == "," || $0 == "|" }) {
            let words = alternative.split(separator: " ")
            guard let name = words.first.map(String.init), name.hasPrefix(prefix), name.hasSuffix(suffix),
                  name != package else { continue }
            return try version(of: name)
        }
        throw LabError.environment("Debian \(suite)'s \(package) depends on no \(prefix)*\(suffix) package")
    }

    /// Downloads the packages' candidate versions into `folder`; returns the .deb files.
    func download(_ packages: [String], into folder: URL) throws -> [URL] {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Shell.must(["apt-get"] + options + ["-q", "download"] + packages, in: folder)
        return try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".deb") }
            .sorted().map { folder.appendingPathComponent($0) }
    }
}
