import Foundation

/// The module sources of one stage: a directory with Kbuild and .c files.
public struct ModuleSource: Sendable {
    public let directory: URL
    /// How reports name it: `steps/03-tx`, `~/my-xtun`, `03-tx + leak-skb`.
    public let label: String

    public init(directory: URL, label: String) throws {
        self.directory = directory
        self.label = label
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        guard files.contains("Kbuild") || files.contains("Makefile"), files.contains(where: { $0.hasSuffix(".c") }) else {
            throw LabError.usage("\(directory.path) holds no module sources (expected Kbuild or Makefile and .c files)")
        }
    }

    /// The source files that matter for a build, sorted.
    var files: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter {
            $0 == "Kbuild" || $0 == "Makefile" || $0.hasSuffix(".c") || $0.hasSuffix(".h") || $0.hasSuffix(".bt")
        }.sorted()
    }

    /// The stage's bpftrace scripts (stage 05's `xtun_probes.bt`), copied
    /// into the guest's /xtun with the programs.
    var scripts: [String] { files.filter { $0.hasSuffix(".bt") } }

    /// The stage's user programs: each `NAME.c` the Makefile has a
    /// `NAME: NAME.c` rule for (stage 05's `xtun_test`), built next to the
    /// module and copied into the guest's /xtun.
    var programs: [String] {
        guard let makefile = try? String(contentsOf: directory.appendingPathComponent("Makefile"), encoding: .utf8)
        else { return [] }
        return makefile.split(separator: "\n").compactMap { line in
            let words = line.split(separator: " ")
            guard words.count == 2, words[0].hasSuffix(":") else { return nil }
            let name = String(words[0].dropLast())
            return words[1] == "\(name).c" && files.contains("\(name).c") ? name : nil
        }
    }

    /// Copies the source files into a fresh `directory` (builds never write into steps/).
    func copy(to directory: URL) throws {
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for name in files {
            try FileManager.default.copyItem(at: self.directory.appendingPathComponent(name),
                                             to: directory.appendingPathComponent(name))
        }
    }

    /// A fingerprint of the sources' names and contents, to reuse builds.
    func fingerprint() throws -> String {
        var fingerprint = Fingerprint()
        for name in files {
            fingerprint.add(name)
            fingerprint.add(file: directory.appendingPathComponent(name))
        }
        return try fingerprint.value()
    }
}

/// A built xtun.ko.
public struct BuiltModule: Sendable {
    public let module: URL
    /// Compiler warnings (lines with "warning:").
    public let warnings: [String]
    public let log: String
    /// False when a previous identical build was reused.
    public let built: Bool
    /// The stage's user programs, built next to the module (`ModuleSource.programs`), and its scripts.
    public var programs: [URL] = []
}

/// Builds a stage's module out of tree, in a copy under .build, with W=1.
public struct ModuleBuilder: Sendable {
    public let work: URL

    public init(work: URL) { self.work = work }

    public func build(_ source: ModuleSource, against kernel: ProvisionedKernel) throws -> BuiltModule {
        let directory = work.appendingPathComponent("modules/\(try source.fingerprint())-\(kernel.release)")
        return try FileLock.holding(directory.appendingPathExtension("lock")) {
            try build(source, against: kernel, in: directory)
        }
    }

    func build(_ source: ModuleSource, against kernel: ProvisionedKernel, in directory: URL) throws -> BuiltModule {
        let module = directory.appendingPathComponent("xtun.ko")
        let logURL = directory.appendingPathComponent("build.log")
        let programs = (source.programs + source.scripts).map { directory.appendingPathComponent($0) }
        let built = ([module] + programs).allSatisfy { FileManager.default.fileExists(atPath: $0.path) }
        if built, let log = try? String(contentsOf: logURL, encoding: .utf8) {
            return BuiltModule(module: module, warnings: ModuleBuilder.warnings(in: log), log: log, built: false,
                               programs: programs)
        }
        try source.copy(to: directory)
        var log = ""
        var succeeded = true
        for command in [["make", "-C", kernel.headers, "M=\(directory.path)", "W=1", "modules"]]
            + source.programs.map({ ["make", "-C", directory.path, $0] }) where succeeded {
            let result = try Shell.run(command)
            log += result.output
            succeeded = result.succeeded
        }
        try log.write(to: logURL, atomically: true, encoding: .utf8)
        guard succeeded, ([module] + programs).allSatisfy({ FileManager.default.fileExists(atPath: $0.path) }) else {
            for file in [module] + programs { try? FileManager.default.removeItem(at: file) }
            throw BuildFailure(log: log)
        }
        return BuiltModule(module: module, warnings: ModuleBuilder.warnings(in: log), log: log, built: true,
                           programs: programs)
    }

    static func warnings(in log: String) -> [String] {
        log.split(separator: "\n").filter { $0.contains("warning:") }.map(String.init)
    }
}

/// The module did not compile; the checker reports it as a failed check.
public struct BuildFailure: Error, Sendable {
    public let log: String

    /// The compiler's error lines, or the log's tail.
    public var errors: [String] {
        let lines = log.split(separator: "\n").map(String.init)
        let errors = lines.filter { $0.contains("error:") || $0.contains("Error ") }
        return errors.isEmpty ? Array(lines.suffix(10)) : errors
    }
}
