import Foundation

/// The one annotated driver source (`driver/`): every file parsed, ready to
/// produce the snapshot of any stage or pitfall variant.
public struct AnnotatedSource: Sendable, Hashable {
    /// The parsed files, sorted by name.
    public let files: [AnnotatedFile]
    /// The stage numbers markers may name.
    public let validStages: ClosedRange<Int>

    /// Builds a source from already parsed files.
    public init(files: [AnnotatedFile], validStages: ClosedRange<Int> = StageRange.tutorialStages) {
        self.files = files.sorted { $0.name < $1.name }
        self.validStages = validStages
    }

    /// Parses every regular file directly in `directory` (not recursive;
    /// dotfiles are skipped).
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
        for name in try regularFiles(in: directory) {
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

    /// Parses in-memory files (name → text).
    ///
    /// - Parameter displayPrefix: put before each name in diagnostics, e.g. `driver/`.
    /// - Throws: `SourceError` with every problem of every file.
    public static func parse(
        files: [String: String], displayPrefix: String = "",
        knownPitfalls: Set<String>? = nil,
        validStages: ClosedRange<Int> = StageRange.tutorialStages
    ) throws(SourceError) -> AnnotatedSource {
        var parsed: [AnnotatedFile] = []
        var problems: [SourceDiagnostic] = []
        for name in files.keys.sorted() {
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

    /// Names of the regular, non-hidden files directly in `directory`, sorted.
    static func regularFiles(in directory: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { name in
                guard !name.hasPrefix(".") else { return false }
                var isDirectory: ObjCBool = false
                let path = directory.appendingPathComponent(name).path
                return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
                    && !isDirectory.boolValue
            }
            .sorted()
    }
}

/// The clean files of one stage (or of one pitfall variant) and their regions.
public struct Snapshot: Sendable, Hashable {
    public let stage: Int
    /// The pitfall variant, or `nil` for the clean stage.
    public let pitfall: String?
    /// File name → content; files that emit nothing are absent.
    public let files: [String: String]
    /// File name → region name → region text.
    let regions: [String: [String: String]]

    /// Creates a snapshot; `regions` is file name → region name → text.
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

    /// Writes every file into `directory` (created if needed). Files whose
    /// content is already right are left untouched (so `make` does not
    /// rebuild); nothing is deleted.
    ///
    /// - Returns: the names of the files that were (re)written, sorted.
    @discardableResult
    public func write(to directory: URL) throws -> [String] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var written: [String] = []
        for name in files.keys.sorted() {
            let url = directory.appendingPathComponent(name)
            let data = Data(files[name, default: ""].utf8)
            if (try? Data(contentsOf: url)) == data { continue }
            try data.write(to: url, options: .atomic)
            written.append(name)
        }
        return written
    }
}
