import Foundation

/// A file's path inside a directory, as the annotated source, snapshots and
/// snippet references name files: `xtun.c`, `user/xtun_test.c`.
enum RelativePath {
    /// Whether `path` is relative and canonical: components separated by
    /// single `/`, none of them empty, `.` or `..` (so it neither leaves
    /// the directory nor names one file two ways).
    static func isValid(_ path: some StringProtocol) -> Bool {
        let components = path.split(separator: "/", omittingEmptySubsequences: false)
        return components.allSatisfy { !$0.isEmpty && $0 != "." && $0 != ".." }
    }

    /// The last component: `xtun_test.c` for `user/xtun_test.c`.
    static func lastComponent(_ path: String) -> Substring {
        path.split(separator: "/", omittingEmptySubsequences: false).last ?? Substring(path)
    }

    /// Whether a directory of `path` (not the file itself) is hidden:
    /// `.tmp_versions/x` is, `user/.x.cmd` is not.
    static func isInHiddenDirectory(_ path: String) -> Bool {
        path.split(separator: "/", omittingEmptySubsequences: false).dropLast().contains { $0.hasPrefix(".") }
    }
}

/// The files under a directory, found recursively.
enum FileTree {
    /// The relative paths (`user/xtun_test.c`) of the files under
    /// `directory`, sorted. Regular files and symbolic links to them count;
    /// symbolic links to directories are not followed.
    ///
    /// - Parameter includingHidden: whether files and directories whose name
    ///   starts with `.` are listed (and searched).
    /// - Throws: the file system's error when a directory cannot be read.
    static func files(under directory: URL, includingHidden: Bool) throws -> [String] {
        var found: [String] = []
        try collect(in: directory, prefix: "", includingHidden: includingHidden, into: &found)
        return found.sorted()
    }

    private static func collect(in directory: URL, prefix: String, includingHidden: Bool,
                                into found: inout [String]) throws {
        let manager = FileManager.default
        for name in try manager.contentsOfDirectory(atPath: directory.path) {
            guard includingHidden || !name.hasPrefix(".") else { continue }
            let url = directory.appendingPathComponent(name)
            let type = try manager.attributesOfItem(atPath: url.path)[.type] as? FileAttributeType
            switch type {
            case .typeDirectory?:
                try collect(in: url, prefix: "\(prefix)\(name)/", includingHidden: includingHidden, into: &found)
            case .typeRegular?:
                found.append(prefix + name)
            case .typeSymbolicLink?:
                var isDirectory: ObjCBool = false
                if manager.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                    found.append(prefix + name)
                }
            default:
                continue
            }
        }
    }

    /// Removes the directories of `paths` under `directory` that are now
    /// empty, innermost first, up to (not including) `directory` itself.
    ///
    /// - Returns: the relative paths of the removed directories, sorted.
    @discardableResult
    static func removeEmptyDirectories(of paths: [String], under directory: URL) throws -> [String] {
        let manager = FileManager.default
        var candidates: Set<String> = []
        for path in paths {
            var components = path.split(separator: "/").dropLast()
            while !components.isEmpty {
                candidates.insert(components.joined(separator: "/"))
                components = components.dropLast()
            }
        }
        var removed: [String] = []
        // Deeper directories sort after their parents; remove them first.
        for relative in candidates.sorted(by: >) {
            let url = directory.appendingPathComponent(relative)
            guard let contents = try? manager.contentsOfDirectory(atPath: url.path), contents.isEmpty else { continue }
            try manager.removeItem(at: url)
            removed.append(relative)
        }
        return removed.sorted()
    }
}
