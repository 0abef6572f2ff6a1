import Foundation
import XtunChecks

/// Where the tutorial lives in the package: `driver/` (the annotated
/// source), `steps/` (generated snapshots) and `book/` (chapters).
public struct TutorialLayout: Sendable, Hashable {
    /// The package root, the directory holding `Package.swift`.
    public let root: URL

    public init(root: URL) {
        self.root = root
    }

    /// The package's name in `Package.swift`.
    public static let packageName = "xtun-lab"

    public var driver: URL { root.appendingPathComponent("driver") }
    public var steps: URL { root.appendingPathComponent("steps") }
    public var book: URL { root.appendingPathComponent("book") }

    /// The nearest directory at or above `directory` whose `Package.swift`
    /// contains `name: "<packageName>"`.
    public static func find(from directory: URL, packageName: String = TutorialLayout.packageName) -> TutorialLayout? {
        var current = directory.standardizedFileURL
        while true {
            let manifest = current.appendingPathComponent("Package.swift")
            if let data = try? Data(contentsOf: manifest),
               String(decoding: data, as: UTF8.self).contains("name: \"\(packageName)\"") {
                return TutorialLayout(root: current)
            }
            let parent = current.deletingLastPathComponent().standardizedFileURL
            if parent.path == current.path { return nil }
            current = parent
        }
    }

    /// The pitfall names conditions may use: those in `Pitfall.all`, or `nil`
    /// (no validation) while that catalogue is empty.
    public static var catalogPitfalls: Set<String>? {
        Pitfall.all.isEmpty ? nil : Set(Pitfall.all.map(\.name))
    }

    /// The stage number a catalogued pitfall's variant is built from
    /// (`Pitfall.named(name)?.stage`), or `nil` if it is not catalogued.
    public static func catalogStage(ofPitfall name: String) -> Int? {
        Pitfall.named(name)?.stage.number
    }

    /// Whether `driver/` exists as a directory.
    public var hasDriverDirectory: Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: driver.path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    /// The relative paths of the source files under `driver/`,
    /// subdirectories included (none if it is missing).
    public func driverFiles() -> [String] {
        (try? AnnotatedSource.sourceFiles(in: driver)) ?? []
    }

    /// Parses `driver/`.
    public func loadSource(knownPitfalls: Set<String>? = TutorialLayout.catalogPitfalls) throws -> AnnotatedSource {
        try AnnotatedSource.load(directory: driver, knownPitfalls: knownPitfalls)
    }

    /// Everything that differs between `driver/` and `steps/` plus `book/`.
    public struct CheckReport: Sendable, Hashable {
        public let steps: [StepsDifference]
        public let book: [BookProblem]

        /// Whether nothing differs.
        public var isClean: Bool { steps.isEmpty && book.isEmpty }

        /// One line per difference, steps first.
        public var lines: [String] { steps.map(\.description) + book.map(\.description) }
    }

    /// Checks `steps/<slug>/` for each stage and every book snippet against `source`.
    public func check(_ source: AnnotatedSource, stages: [Stage] = Stage.written) throws -> CheckReport {
        CheckReport(steps: try StepsTree(directory: steps).check(source, stages: stages),
                    book: try Book(directory: book).verify(against: source))
    }
}
