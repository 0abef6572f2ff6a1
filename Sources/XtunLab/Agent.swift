import Foundation

/// Builds `xtun-agent` for the guest: release, static Swift runtime, in its
/// own scratch directory so it never fights the host build.
public struct AgentBuilder: Sendable {
    public let paths: LabPaths

    public init(paths: LabPaths) { self.paths = paths }

    var binary: URL { paths.agentScratch.appendingPathComponent("release/xtun-agent") }
    var keyFile: URL { paths.agentScratch.appendingPathComponent("xtun-agent.key") }

    /// What the agent is built from: every file under Sources/ (a change to
    /// any target the agent imports, at any depth), the manifest, the
    /// compiler. Conservative: a host-only change costs one no-op `swift build`.
    func inputKey() throws -> String {
        var fingerprint = Fingerprint()
        fingerprint.add(tree: paths.root.appendingPathComponent("Sources"))
        fingerprint.add(file: paths.root.appendingPathComponent("Package.swift"))
        if let swift = Shell.which("swift") {
            fingerprint.add(URL(fileURLWithPath: swift).resolvingSymlinksInPath().path)
        }
        return try fingerprint.value()
    }

    /// The agent binary, rebuilt when anything it is built from changed.
    public func build() throws -> URL {
        try FileLock.holding(paths.agentScratch.appendingPathComponent("build.lock")) {
            let key = try inputKey()
            if FileManager.default.fileExists(atPath: binary.path),
               (try? String(contentsOf: keyFile, encoding: .utf8)) == key {
                return binary
            }
            try Shell.must(["swift", "build", "-c", "release", "--product", "xtun-agent",
                            "--static-swift-stdlib", "--scratch-path", paths.agentScratch.path],
                           in: paths.root)
            try key.write(to: keyFile, atomically: true, encoding: .utf8)
            return binary
        }
    }
}
