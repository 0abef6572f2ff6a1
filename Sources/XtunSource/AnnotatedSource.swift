import Foundation

/// The one annotated driver source (`driver/`): every file parsed, ready to
/// produce the snapshot of any stage or pitfall variant.
public struct AnnotatedSource: Sendable, Hashable {
    /// The parsed files, sorted by path.
    public let files: [AnnotatedFile]
    /// The stage numbers markers may name.
    public let validStages: ClosedRange<Int>

    /// Builds a source from already parsed files.
    public init(files: [AnnotatedFile], validStages: ClosedRange<Int> = StageRange.tutorialStages) {
        self.files = files.sorted { $0.name < $1.name }
        self.validStages = validStages
    }

    /// Parses every file under `directory`, subdirectories included (hidden
    /// files and directories are skipped). Each file is keyed by its path
    /// relative to `directory`, e.g. `xtun.c` or `user/xtun_test.c`.
    ///
    /// - Parameter knownPitfalls: when given, a condition naming a pitfall not
    ///   in this set is an error; when `nil`, any pitfall name is accepted.
    /// - Throws: `SourceError` with every marker problem (`driver/xtun.c:12: ...`),
    ///   or the file system's error when the directory cannot be read.
    public static func load(
        directory: URL, knownPitfalls: Set<String>? = nil,
        validStages: ClosedRange<Int> = StageRange.tutorialStages
    ) throws -> AnnotatedSource {
        let prefix = directory.standardizedFileURL.lastPathComponent
        var texts: [String: String] = [:]
        var problems: [SourceDiagnostic] = []
        for name in try sourceFiles(in: directory) {
            let data = try Data(contentsOf: directory.appendingPathComponent(name))
            guard let text = String(data: data, encoding: .utf8) else {
                problems.append(SourceDiagnostic(file: "\(prefix)/\(name)", line: 1, message: "not UTF-8 text"))
                continue
            }
            texts[name] = text
        }
        let source: AnnotatedSource
        do {
            source = try parse(files: texts, displayPrefix: "\(prefix)/",
                               knownPitfalls: knownPitfalls, validStages: validStages)
        } catch {
            throw SourceError(diagnostics: problems + error.diagnostics)
        }
        guard problems.isEmpty else { throw SourceError(diagnostics: problems) }
        return source
    }

    /// Parses in-memory files (relative path → text).
    ///
    /// - Parameter displayPrefix: put before each path in diagnostics, e.g. `driver/`.
    /// - Throws: `SourceError` with every problem of every file, including
    ///   a path that is not relative or has empty, `.` or `..` components.
    public static func parse(
        files: [String: String], displayPrefix: String = "",
        knownPitfalls: Set<String>? = nil,
        validStages: ClosedRange<Int> = StageRange.tutorialStages
    ) throws(SourceError) -> AnnotatedSource {
        var parsed: [AnnotatedFile] = []
        var problems: [SourceDiagnostic] = []
        for name in files.keys.sorted() {
            guard RelativePath.isValid(name) else {
                problems.append(SourceDiagnostic(
                    file: displayPrefix + name, line: 1,
                    message: "not a relative path (want components without empty, '.' or '..' ones)"))
                continue
            }
            do {
                parsed.append(try AnnotatedFile.parse(
                    name: name, text: files[name] ?? "", displayPath: displayPrefix + name,
                    knownPitfalls: knownPitfalls, validStages: validStages))
            } catch {
                problems += error.diagnostics
            }
        }
        guard problems.isEmpty else { throw SourceError(diagnostics: problems) }
        return AnnotatedSource(files: parsed, validStages: validStages)
    }

    /// Every pitfall name used in a condition.
    public var pitfallNames: Set<String> {
        files.reduce(into: []) { $0.formUnion($1.pitfallNames) }
    }

    /// The files and regions of `stage`, or of its `pitfall` variant.
    public func snapshot(stage: Int, pitfall: String? = nil) -> Snapshot {
        var texts: [String: String] = [:]
        var regions: [String: [String: String]] = [:]
        for file in files {
            let rendered = file.render(stage: stage, pitfall: pitfall)
            guard let text = rendered.text else { continue }
            texts[file.name] = text
            regions[file.name] = rendered.regions
        }
        return Snapshot(stage: stage, pitfall: pitfall, files: texts, regions: regions)
    }

    /// The stages whose `pitfall` variant differs from the clean stage, in order.
    public func stages(affectedBy pitfall: String) -> [Int] {
        validStages.filter { stage in
            snapshot(stage: stage, pitfall: pitfall).files != snapshot(stage: stage).files
        }
    }

    /// The relative paths of the non-hidden files under `directory`
    /// (hidden directories are not searched), sorted.
    static func sourceFiles(in directory: URL) throws -> [String] {
        try FileTree.files(under: directory, includingHidden: false)
    }
}

/// The clean files of one stage (or of one pitfall variant) and their regions.
public struct Snapshot: Sendable, Hashable {
    public let stage: Int
    /// The pitfall variant, or `nil` for the clean stage.
    public let pitfall: String?
    /// Relative path (`xtun.c`, `user/xtun_test.c`) → content; files that
    /// emit nothing are absent.
    public let files: [String: String]
    /// Relative path → region name → region text.
    let regions: [String: [String: String]]

    /// Creates a snapshot; `regions` is relative path → region name → text.
    public init(stage: Int, pitfall: String?, files: [String: String], regions: [String: [String: String]] = [:]) {
        self.stage = stage
        self.pitfall = pitfall
        self.files = files
        self.regions = regions
    }

    /// The text of region `name` in `file`, or `nil` when the file or the
    /// region emits nothing in this snapshot.
    ///
    /// It is the file's output lines that came from inside the block (blank
    /// runs already collapsed, nested markers gone), without blank lines at
    /// its start and end, joined with newlines and ending with one.
    public func region(file: String, name: String) -> String? {
        regions[file]?[name]
    }

    /// The names of the regions `file` has in this snapshot, sorted.
    public func regionNames(file: String) -> [String] {
        (regions[file] ?? [:]).keys.sorted()
    }

    /// Writes every file into `directory`, creating it and the
    /// subdirectories files are in (`user/` for `user/xtun_test.c`) as
    /// needed. Files whose content is already right are left untouched (so
    /// `make` does not rebuild); nothing is deleted.
    ///
    /// - Returns: the relative paths of the files that were (re)written, sorted.
    /// - Throws: `SnapshotPathError` for a path that would leave `directory`,
    ///   or the file system's error.
    @discardableResult
    public func write(to directory: URL) throws -> [String] {
        if let unsafe = files.keys.sorted().first(where: { !RelativePath.isValid($0) }) {
            throw SnapshotPathError(path: unsafe)
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var written: [String] = []
        for name in files.keys.sorted() {
            let url = directory.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(),
                                                    withIntermediateDirectories: true)
            let data = Data(files[name, default: ""].utf8)
            if (try? Data(contentsOf: url)) == data { continue }
            try data.write(to: url, options: .atomic)
            written.append(name)
        }
        return written
    }
}

/// A snapshot file's path is not a relative path inside the directory it
/// is written to (it is absolute, or has an empty, `.` or `..` component).
public struct SnapshotPathError: Error, Sendable, Hashable, CustomStringConvertible {
    public let path: String

    public var description: String { "snapshot file '\(path)' is not a relative path inside the directory" }
}
