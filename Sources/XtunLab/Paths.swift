import Foundation
import XtunSource

/// Where the lab keeps its inputs and outputs.
public struct LabPaths: Sendable {
    /// The package root (holds Package.swift, driver/, steps/, book/).
    public let root: URL
    /// Downloaded kernels: `$XTUN_CACHE`, else `$XDG_CACHE_HOME/xtun-lab`, else `~/.cache/xtun-lab`.
    public let cache: URL

    public init(root: URL, cache: URL) {
        self.root = root
        self.cache = cache
    }

    /// Finds the package root from the current directory (or this source file).
    public static func discover(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> LabPaths {
        let here = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        let fromSource = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        guard let layout = TutorialLayout.find(from: here) ?? TutorialLayout.find(from: fromSource) else {
            throw LabError.environment("cannot find the xtun-lab package (Package.swift): run from the repository")
        }
        return LabPaths(root: layout.root, cache: defaultCache(environment: environment))
    }

    static func defaultCache(environment: [String: String]) -> URL {
        if let explicit = environment["XTUN_CACHE"], !explicit.isEmpty {
            return URL(fileURLWithPath: explicit)
        }
        let base = environment["XDG_CACHE_HOME"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache")
        return base.appendingPathComponent("xtun-lab")
    }

    public var layout: TutorialLayout { TutorialLayout(root: root) }
    public var kernels: URL { cache.appendingPathComponent("kernels") }
    /// Module builds, initramfs pieces and VM logs (inside .build, never committed).
    public var work: URL { root.appendingPathComponent(".build/xtun-lab") }
    public var agentScratch: URL { root.appendingPathComponent(".build-agent") }
}
