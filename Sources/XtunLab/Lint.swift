import Foundation

/// The kernel's own style and static checkers, run on a stage's sources:
/// checkpatch.pl (from Debian's linux-source package) and sparse (make C=1).
public struct Lint: Sendable {
    public let cache: URL
    public let work: URL
    /// checkpatch.pl comes from the source package of the 6.12 kernel the lab tests.
    let archive: DebianArchive

    public init(paths: LabPaths) {
        cache = paths.cache.appendingPathComponent("checkpatch")
        work = paths.work.appendingPathComponent("lint")
        archive = DebianArchive(suite: "bookworm", cache: paths.cache)
    }

    var script: URL { cache.appendingPathComponent("scripts/checkpatch.pl") }

    /// checkpatch.pl and the data files it reads, extracted from linux-source-6.12.
    public func provisionCheckpatch() throws -> URL {
        if FileManager.default.fileExists(atPath: script.path) { return script }
        return try FileLock.holding(cache.appendingPathExtension("lock")) {
            if FileManager.default.fileExists(atPath: script.path) { return script }
            return try downloadCheckpatch()
        }
    }

    func downloadCheckpatch() throws -> URL {
        let download = cache.appendingPathComponent("download")
        try? FileManager.default.removeItem(at: download)
        try FileManager.default.createDirectory(at: download, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: download) }
        try archive.update()
        guard let deb = try archive.download(["linux-source-6.12"], into: download).first else {
            throw LabError.environment("apt-get download linux-source-6.12 gave no .deb")
        }
        try Shell.must(["dpkg-deb", "-x", deb.path, "unpacked"], in: download)
        let tarball = download.appendingPathComponent("unpacked/usr/src/linux-source-6.12.tar.xz")
        let wanted = ["scripts/checkpatch.pl", "scripts/spelling.txt", "scripts/const_structs.checkpatch"]
        try Shell.must(["tar", "-xJf", tarball.path, "-C", download.path, "--wildcards"]
                       + wanted.map { "*/\($0)" })
        let tree = "linux-source-6.12"
        guard FileManager.default.fileExists(atPath: download.appendingPathComponent(tree).path) else {
            throw LabError.environment("linux-source-6.12's tarball has no \(tree)/ tree")
        }
        try FileManager.default.createDirectory(at: cache.appendingPathComponent("scripts"),
                                                withIntermediateDirectories: true)
        for file in wanted {
            try? FileManager.default.removeItem(at: cache.appendingPathComponent(file))
            try FileManager.default.moveItem(at: download.appendingPathComponent("\(tree)/\(file)"),
                                             to: cache.appendingPathComponent(file))
        }
        return script
    }

    /// checkpatch --strict on every source file; returns its report (empty when clean).
    public func checkpatch(_ source: ModuleSource) throws -> [String] {
        let script = try provisionCheckpatch()
        let files = source.files.map { source.directory.appendingPathComponent($0).path }
        let result = try Shell.run(["perl", script.path, "--no-tree", "--strict", "--quiet", "--terse",
                                    "--show-types", "-f"] + files)
        return result.output.split(separator: "\n").map(String.init)
            .filter { !$0.hasPrefix("total: 0 errors, 0 warnings, 0 checks") }
    }

    /// sparse through kbuild (C=2 checks every file); returns its warnings and errors.
    public func sparse(_ source: ModuleSource, kernel: ProvisionedKernel) throws -> [String] {
        guard Shell.which("sparse") != nil else {
            throw LabError.environment("sparse is missing: install sparse (./setup does)")
        }
        let directory = work.appendingPathComponent("\(try source.fingerprint())-\(kernel.release)")
        try source.copy(to: directory)
        let result = try Shell.run(["make", "-C", kernel.headers, "M=\(directory.path)", "C=2", "W=1", "modules"])
        guard result.succeeded else { throw BuildFailure(log: result.output) }
        guard result.output.contains("CHECK") else {
            throw LabError.environment("make C=2 did not run sparse:\n\(result.output)")
        }
        return result.output.split(separator: "\n").map(String.init)
            .filter { $0.contains("warning:") || $0.contains("error:") }
    }
}

/// What `check-step lint` found in one stage's sources.
public struct LintReport: Sendable {
    public let source: String
    /// checkpatch --strict's findings, one per line.
    public let checkpatch: [String]
    /// sparse's warnings and errors, by kernel release.
    public let sparse: [(release: String, findings: [String])]

    public var isClean: Bool { checkpatch.isEmpty && sparse.allSatisfy(\.findings.isEmpty) }

    /// One line per finding under a heading per tool, and a verdict line.
    public var text: String {
        var lines = ["checkpatch --strict on \(source): " + (checkpatch.isEmpty ? "clean" : "\(checkpatch.count) findings")]
        lines += checkpatch.map { "    \($0)" }
        for (release, findings) in sparse {
            lines.append("sparse (make C=2 W=1) against \(release): " + (findings.isEmpty ? "clean" : "\(findings.count) findings"))
            lines += findings.map { "    \($0)" }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension Lab {
    /// checkpatch --strict and sparse on a request's module sources, sparse
    /// against each kernel's headers.
    public func lint(_ request: CheckRequest, kernels: [KernelChoice]) throws -> LintReport {
        let source = try moduleSource(for: request)
        let lint = Lint(paths: paths)
        progress("[\(request.stage.slug)] checkpatch --strict on \(source.label)")
        let checkpatch = try lint.checkpatch(source)
        let sparse = try kernels.map { choice in
            let kernel = try kernel(for: .virtualMachine(choice))
            progress("[\(request.stage.slug)] sparse against \(kernel.release)")
            return (kernel.release, try lint.sparse(source, kernel: kernel))
        }
        return LintReport(source: source.label, checkpatch: checkpatch, sparse: sparse)
    }
}
