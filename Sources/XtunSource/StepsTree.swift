import Foundation
import XtunChecks

/// The generated per-stage snapshots, `steps/<slug>/`: writes them from the
/// annotated source and checks that they match it, subdirectories included
/// (`steps/05-test/user/xtun_test.c`). Files are named by their path in the
/// stage directory.
///
/// Build artifacts (see `isBuildArtifact(_:in:)`) in a stage directory are
/// never deleted or reported, and neither are the directories of stages that
/// are not asked for.
public struct StepsTree: Sendable, Hashable {
    /// The `steps/` directory.
    public let directory: URL

    public init(directory: URL) {
        self.directory = directory
    }

    /// What `write` did in one stage directory.
    public struct WriteSummary: Sendable, Hashable, CustomStringConvertible {
        public let slug: String
        /// The files the snapshot has, as relative paths, sorted.
        public let files: [String]
        /// The files that were created or rewritten, sorted.
        public let written: [String]
        /// Stale files that were deleted, sorted (directories they leave
        /// empty are deleted too, and not listed).
        public let removed: [String]

        /// `steps/01-init: 4 files, 1 written, 0 removed`.
        public var description: String {
            "steps/\(slug): \(files.count) files, \(written.count) written, \(removed.count) removed"
        }
    }

    /// Writes `steps/<slug>/` for each stage and deletes files there, in
    /// subdirectories too, that the generator did not produce (build
    /// artifacts excepted), then the directories that this leaves empty.
    @discardableResult
    public func write(_ source: AnnotatedSource, stages: [Stage] = Stage.written) throws -> [WriteSummary] {
        try stages.map { stage in
            let snapshot = source.snapshot(stage: stage.number)
            let stageDirectory = directory.appendingPathComponent(stage.slug)
            let written = try snapshot.write(to: stageDirectory)
            var removed: [String] = []
            for name in try Self.files(in: stageDirectory)
            where snapshot.files[name] == nil && !Self.isBuildArtifact(name, in: stageDirectory) {
                try FileManager.default.removeItem(at: stageDirectory.appendingPathComponent(name))
                removed.append(name)
            }
            try FileTree.removeEmptyDirectories(of: removed, under: stageDirectory)
            return WriteSummary(slug: stage.slug, files: snapshot.files.keys.sorted(),
                                written: written, removed: removed)
        }
    }

    /// Every way `steps/<slug>/` differs from the source, for each stage, in
    /// stage and file order; empty when everything matches.
    public func check(_ source: AnnotatedSource, stages: [Stage] = Stage.written) throws -> [StepsDifference] {
        var differences: [StepsDifference] = []
        for stage in stages {
            let snapshot = source.snapshot(stage: stage.number)
            let stageDirectory = directory.appendingPathComponent(stage.slug)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: stageDirectory.path, isDirectory: &isDirectory),
                  isDirectory.boolValue else {
                differences.append(.missingStageDirectory(slug: stage.slug))
                continue
            }
            let present = Set(try Self.files(in: stageDirectory))
            for name in Set(snapshot.files.keys).union(present).sorted() {
                guard let expected = snapshot.files[name] else {
                    if !Self.isBuildArtifact(name, in: stageDirectory) {
                        differences.append(.extraFile(slug: stage.slug, file: name))
                    }
                    continue
                }
                guard present.contains(name) else {
                    differences.append(.missingFile(slug: stage.slug, file: name))
                    continue
                }
                let data = try Data(contentsOf: stageDirectory.appendingPathComponent(name))
                guard data != Data(expected.utf8) else { continue }
                let actual = String(decoding: data, as: UTF8.self)
                if let difference = LineDifference.first(expected: expected, actual: actual) {
                    differences.append(.contentDiffers(slug: stage.slug, file: name, difference))
                }
            }
        }
        return differences
    }

    /// Whether the file at `path` (relative to a stage directory) is, by its
    /// path alone, something a build leaves: anything inside a hidden
    /// directory (`.tmp_versions/`), or a file named like what `make` leaves
    /// in a module directory: `*.o *.ko *.mod *.mod.c *.cmd .*.cmd *.symvers
    /// modules.order Module.symvers .module-common.o`.
    public static func isBuildArtifact(_ path: String) -> Bool {
        guard !RelativePath.isInHiddenDirectory(path) else { return true }
        let name = String(RelativePath.lastComponent(path))
        let suffixes = [".o", ".ko", ".mod", ".mod.c", ".cmd", ".symvers"]
        let names: Set = ["modules.order", "Module.symvers", ".module-common.o"]
        return names.contains(name) || suffixes.contains { name.hasSuffix($0) && name.count > $0.count }
    }

    /// Whether the file at `path` in `directory` is a build artifact: by its
    /// path (`isBuildArtifact(_:)`), or because it is an ELF file, such as a
    /// compiled userspace program, which has no suffix to tell it by.
    public static func isBuildArtifact(_ path: String, in directory: URL) -> Bool {
        isBuildArtifact(path) || isELFFile(at: directory.appendingPathComponent(path))
    }

    /// Whether the file at `url` starts with the ELF magic `\u{7f}ELF`.
    public static func isELFFile(at url: URL) -> Bool {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return false }
        defer { try? handle.close() }
        let magic = (try? handle.read(upToCount: elfMagic.count)) ?? nil
        return magic == elfMagic
    }

    /// The first four bytes of every ELF file.
    static let elfMagic = Data([0x7f, 0x45, 0x4c, 0x46])

    /// The relative paths of every file under `directory`, hidden ones and
    /// those in hidden directories included, sorted.
    static func files(in directory: URL) throws -> [String] {
        try FileTree.files(under: directory, includingHidden: true)
    }
}

/// One way a stage directory differs from what the annotated source produces.
public enum StepsDifference: Sendable, Hashable, CustomStringConvertible {
    /// `steps/<slug>/` does not exist.
    case missingStageDirectory(slug: String)
    /// The snapshot has a file that `steps/<slug>/` lacks.
    case missingFile(slug: String, file: String)
    /// `steps/<slug>/` has a file the snapshot does not (and it is no build artifact).
    case extraFile(slug: String, file: String)
    /// The file's content differs; `difference` is the first differing line.
    case contentDiffers(slug: String, file: String, LineDifference)

    public var description: String {
        switch self {
        case .missingStageDirectory(let slug):
            "steps/\(slug)/: missing stage directory (run `swift run steps`)"
        case .missingFile(let slug, let file):
            "steps/\(slug)/\(file): missing (driver/ produces it at this stage)"
        case .extraFile(let slug, let file):
            "steps/\(slug)/\(file): not produced by driver/ at this stage"
        case .contentDiffers(let slug, let file, let difference):
            "steps/\(slug)/\(file):\(difference.line): differs from driver/: expected "
                + "\(LineDifference.show(difference.expected)), found \(LineDifference.show(difference.actual))"
        }
    }
}
