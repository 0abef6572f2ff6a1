import ArgumentParser
import Foundation
import XtunSource

/// A failure the command reports itself: a message and an exit status.
struct Failure: Error {
    /// Lines for standard error, as they are.
    let lines: [String]
    let status: Int32

    /// A usage or environment problem (exit 2): `steps: message`.
    static func environment(_ message: String) -> Failure { Failure(lines: ["steps: \(message)"], status: 2) }
}

/// Where the package is, shared by every subcommand.
struct Location: ParsableArguments {
    @Option(name: .customLong("root"), help: ArgumentHelp(
        "The package root (default: the nearest directory at or above the current one "
            + "whose Package.swift says name: \"xtun-lab\").", valueName: "dir"))
    var root: String?

    /// The tutorial layout, or an environment failure.
    func layout() throws -> TutorialLayout {
        let current = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        let layout: TutorialLayout
        if let root {
            layout = TutorialLayout(root: URL(fileURLWithPath: root, relativeTo: current).standardizedFileURL)
        } else if let found = TutorialLayout.find(from: current) {
            layout = found
        } else {
            throw Failure.environment(
                "no Package.swift with name: \"\(TutorialLayout.packageName)\" at or above \(current.path)")
        }
        guard layout.hasDriverDirectory else {
            throw Failure.environment("no driver/ directory in \(layout.root.path)")
        }
        guard !layout.driverFiles().isEmpty else {
            throw Failure.environment("driver/ in \(layout.root.path) has no source files")
        }
        return layout
    }

    /// The parsed annotated source; marker problems exit 1, one per line.
    func source(in layout: TutorialLayout) throws -> AnnotatedSource {
        do {
            return try layout.loadSource()
        } catch let error as SourceError {
            throw Failure(lines: error.diagnostics.map(\.description), status: 1)
        } catch {
            throw Failure.environment("cannot read driver/: \(describe(error))")
        }
    }
}

struct StepsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "steps",
        abstract: "Generate the per-stage snapshots steps/<stage>/ and the book's code snippets from driver/.",
        usage: """
            steps [--root <dir>]            write steps/<stage>/ from driver/
            steps --check [--root <dir>]    list differences, write nothing
            steps --book [--root <dir>]     rewrite book snippets from driver/
            steps variant [--stage <n>] [--pitfall <name>] --out <dir>
            """,
        discussion: """
            driver/ holds the driver once, annotated with marker lines
            (#> and #< instead of //> and //< in Kbuild and Makefile):
              //> NN name           present from stage NN on
              //> NN-MM name        present in stages NN through MM
              //> NN name +pitfall  present only in that pitfall's variant
              //> NN name -pitfall  absent in that pitfall's variant
              //< name              closes the innermost block
            Files in subfolders keep their path: driver/user/xtun_test.c
            becomes steps/<stage>/user/xtun_test.c (hidden files and folders
            are skipped). The marker leader follows the file's name.
            Every block is a region that a book chapter quotes with a line
              <!-- xtun: 02-ops/xtun.c#name -->
            (or 02-ops/xtun.c for a whole file, 02-ops+pitfall/xtun.c#name
            for a variant, 05-test/user/xtun_test.c#name in a subfolder)
            followed at once by a ``` code block.

            Without options, writes steps/<stage>/ for every written stage,
            removing stale files (in subfolders too, and folders left empty)
            but keeping build artifacts: kernel build files (*.o, *.ko,
            .*.cmd, ...), ELF executables, and anything in a hidden folder.

            Exit status: 0 success; 1 differences or marker errors;
            2 usage or environment errors.
            """,
        subcommands: [Variant.self])

    @Flag(help: "Write nothing; list every difference between driver/ and steps/ or book/ snippets (exit 1 if any).")
    var check = false

    @Flag(help: "Rewrite the code block under each <!-- xtun: ... --> line in book/*.md from driver/.")
    var book = false

    @OptionGroup var location: Location

    func validate() throws {
        if check && book { throw ValidationError("--check and --book cannot be used together") }
    }

    func run() throws {
        let layout = try location.layout()
        let source = try location.source(in: layout)
        if check {
            let report = try layout.check(source)
            guard report.isClean else {
                report.lines.forEach { print($0) }
                throw Failure(lines: [
                    "steps: \(report.lines.count) difference(s); `swift run steps` regenerates steps/, "
                        + "`swift run steps --book` the book snippets",
                ], status: 1)
            }
            print("steps/ and book snippets match driver/")
        } else if book {
            let result = try Book(directory: layout.book).sync(from: source)
            for chapter in result.updatedChapters { print("\(chapter): updated") }
            print("\(result.updatedSnippets) snippet(s) updated in \(result.updatedChapters.count) chapter(s)")
            guard result.problems.isEmpty else {
                throw Failure(lines: result.problems.map(\.description), status: 1)
            }
        } else {
            for summary in try StepsTree(directory: layout.steps).write(source) {
                var line = summary.description
                if summary.files.isEmpty { line += " (warning: driver/ produces no files for this stage)" }
                print(line)
            }
        }
    }
}

struct Variant: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write one stage's snapshot, optionally a pitfall variant, into a directory.",
        discussion: """
            Files already there with the right content are left untouched;
            nothing is deleted. Example:
              swift run steps variant --stage 2 --pitfall leak-skb --out /tmp/v
            """)

    @Option(help: ArgumentHelp("The stage number, 1 through 6 (default: the pitfall's catalogued stage).",
                               valueName: "n"))
    var stage: Int?

    @Option(help: ArgumentHelp("Build this pitfall's broken variant (a name used in a driver/ condition).",
                               valueName: "name"))
    var pitfall: String?

    @Option(help: ArgumentHelp("The directory to write into (created if needed).", valueName: "dir"))
    var out: String

    @OptionGroup var location: Location

    func validate() throws {
        if let stage, !StageRange.tutorialStages.contains(stage) {
            let stages = StageRange.tutorialStages
            throw ValidationError("--stage must be \(stages.lowerBound) through \(stages.upperBound), not \(stage)")
        }
        if stage == nil && pitfall == nil {
            throw ValidationError("give --stage (and optionally --pitfall)")
        }
    }

    func run() throws {
        let layout = try location.layout()
        let source = try location.source(in: layout)
        if let pitfall, !source.pitfallNames.contains(pitfall) {
            let known = source.pitfallNames.sorted().joined(separator: ", ")
            throw Failure.environment(
                "unknown pitfall '\(pitfall)': driver/ conditions name \(known.isEmpty ? "no pitfalls" : known)")
        }
        guard let stage = stage ?? pitfall.flatMap(TutorialLayout.catalogStage(ofPitfall:)) else {
            throw Failure.environment("pitfall '\(pitfall ?? "")' is not in the catalogue: give --stage")
        }
        let snapshot = source.snapshot(stage: stage, pitfall: pitfall)
        guard !snapshot.files.isEmpty else {
            throw Failure.environment("driver/ produces no files for stage \(stage)")
        }
        let current = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        let directory = URL(fileURLWithPath: out, relativeTo: current).standardizedFileURL
        let written = try snapshot.write(to: directory)
        let name = "stage \(stage)" + (pitfall.map { " + \($0)" } ?? "")
        print("\(directory.path): \(snapshot.files.count) files of \(name), \(written.count) written")
        if let pitfall, snapshot.files == source.snapshot(stage: stage).files {
            let affected = source.stages(affectedBy: pitfall).map(String.init).joined(separator: ", ")
            FileHandle.standardError.write(Data(
                "steps: warning: pitfall \(pitfall) does not change stage \(stage) (it changes stages: \(affected))\n".utf8))
        }
    }
}

/// Parses, runs, and maps every outcome onto the documented exit statuses.
func main() -> Int32 {
    func fail(_ lines: [String]) {
        FileHandle.standardError.write(Data(lines.map { "\($0)\n" }.joined().utf8))
    }
    var command: ParsableCommand
    do {
        command = try StepsCommand.parseAsRoot()
    } catch {
        if StepsCommand.exitCode(for: error) == .success {
            StepsCommand.exit(withError: error)  // --help: prints it and exits 0
        }
        let message = StepsCommand.message(for: error)
        fail(["steps: \(message.isEmpty ? "\(error)" : message) (see `swift run steps --help`)"])
        return 2
    }
    do {
        try command.run()
        return 0
    } catch let failure as Failure {
        fail(failure.lines)
        return failure.status
    } catch {
        // `steps --help` and `steps help` parse to a help command whose run throws the help request.
        if StepsCommand.exitCode(for: error) == .success {
            StepsCommand.exit(withError: error)
        }
        fail(["steps: \(describe(error))"])
        return 2
    }
}

/// A file system error as `path: reason`.
func describe(_ error: any Error) -> String {
    let nsError = error as NSError
    let path = nsError.userInfo[NSFilePathErrorKey] as? String ?? (nsError.userInfo[NSURLErrorKey] as? URL)?.path
    let reason = (nsError.userInfo[NSUnderlyingErrorKey] as? NSError)?.localizedDescription
        ?? nsError.localizedDescription
    return path.map { "\($0): \(reason)" } ?? reason
}

exit(main())
