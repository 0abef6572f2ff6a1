import Foundation

/// Builds `xtun-agent` for the guest: release, static Swift runtime, in its
/// own scratch directory so it never fights the host build.
public struct AgentBuilder: Sendable {
    public let paths: LabPaths

    public init(paths: LabPaths) { self.paths = paths }

    var binary: URL { paths.agentScratch.appendingPathComponent("release/xtun-agent") }

    /// Sources that go into the agent.
    var inputs: [URL] {
        let sources = paths.root.appendingPathComponent("Sources")
        let directories = ["XtunAgent", "XtunChecks", "CLinux"].map { sources.appendingPathComponent($0) }
        let files = directories.flatMap { directory in
            ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
                .map { directory.appendingPathComponent($0) }
        }
        return files + [paths.root.appendingPathComponent("Package.swift")]
    }

    func modified(_ url: URL) -> Date {
        ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date) ?? .distantPast
    }

    /// The agent binary, rebuilt only when its sources changed.
    public func build() throws -> URL {
        if FileManager.default.fileExists(atPath: binary.path),
           inputs.allSatisfy({ modified($0) <= modified(binary) }) {
            return binary
        }
        try Shell.must(["swift", "build", "-c", "release", "--product", "xtun-agent",
                        "--static-swift-stdlib", "--scratch-path", paths.agentScratch.path],
                       in: paths.root)
        return binary
    }
}
