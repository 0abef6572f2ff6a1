import Foundation
import Testing
import XtunChecks
@testable import XtunSource

/// Parses in-memory files as the annotated source.
func parse(_ files: [String: String], knownPitfalls: Set<String>? = nil) throws(SourceError) -> AnnotatedSource {
    try AnnotatedSource.parse(files: files, displayPrefix: "driver/", knownPitfalls: knownPitfalls)
}

/// The diagnostics parsing `files` fails with (empty if it succeeds).
func diagnostics(_ files: [String: String], knownPitfalls: Set<String>? = nil) -> [String] {
    do {
        _ = try parse(files, knownPitfalls: knownPitfalls)
        return []
    } catch {
        return error.diagnostics.map(\.description)
    }
}

/// The text of `file` at (stage, pitfall), or nil if the snapshot omits it.
func text(_ source: AnnotatedSource, _ file: String, stage: Int, pitfall: String? = nil) -> String? {
    source.snapshot(stage: stage, pitfall: pitfall).files[file]
}

/// A fresh empty directory, removed by `body`'s end.
func withTemporaryDirectory<T>(_ body: (URL) throws -> T) throws -> T {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("xtun-source-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(url)
}

func write(_ text: String, to url: URL) throws {
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(text.utf8).write(to: url)
}

func read(_ url: URL) throws -> String {
    String(decoding: try Data(contentsOf: url), as: UTF8.self)
}

func stages(_ numbers: Int...) -> [Stage] {
    numbers.compactMap(Stage.numbered)
}

func exists(_ url: URL) -> Bool {
    FileManager.default.fileExists(atPath: url.path)
}
