import Foundation

/// What the guest does after boot.
public enum GuestTask: Sendable, Equatable {
    /// Run stage N's checks and power off.
    case check(stage: Int)
    /// Load the module and give an interactive shell on the console.
    case shell
}

/// Builds the guest's initramfs: a cached base archive (busybox, the C
/// runtime the agent needs, the agent, /init) and a small per-run archive
/// (the module and what to do), concatenated as the kernel allows.
public struct InitramfsBuilder: Sendable {
    public let work: URL
    static let busybox = "/bin/busybox"
    /// The shared libraries a --static-swift-stdlib binary still needs.
    static let libraries = [
        "/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libm.so.6",
        "/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libgcc_s.so.1",
        "/lib64/ld-linux-x86-64.so.2",
    ]

    static let initScript = """
        #!/bin/busybox sh
        /bin/busybox --install -s /bin
        mount -t proc proc /proc
        mount -t sysfs sysfs /sys
        mount -t devtmpfs devtmpfs /dev
        . /xtun/run.sh
        poweroff -f

        """

    public init(work: URL) { self.work = work }

    /// The initramfs for one run.
    public func build(agent: URL, module: URL, task: GuestTask, name: String) throws -> URL {
        let base = try baseArchive(agent: agent)
        let runDirectory = work.appendingPathComponent("runs/\(name)")
        let tree = runDirectory.appendingPathComponent("tree")
        try? FileManager.default.removeItem(at: runDirectory)
        try FileManager.default.createDirectory(at: tree.appendingPathComponent("xtun"),
                                                withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: module, to: tree.appendingPathComponent("xtun/xtun.ko"))
        try InitramfsBuilder.runScript(task).write(to: tree.appendingPathComponent("xtun/run.sh"),
                                                   atomically: true, encoding: .utf8)
        let top = runDirectory.appendingPathComponent("run.cpio")
        try archive(tree, to: top)
        let image = runDirectory.appendingPathComponent("initramfs.cpio")
        var data = try Data(contentsOf: base)
        data.append(try Data(contentsOf: top))
        try data.write(to: image)
        return image
    }

    static func runScript(_ task: GuestTask) -> String {
        switch task {
        case .check(let stage):
            return "/xtun/xtun-agent check \(stage) /xtun/xtun.ko --report /dev/ttyS1\n"
        case .shell:
            return """
                /xtun/xtun-agent load /xtun/xtun.ko
                echo "xtun lab shell: /dev/xtun and xtun are here; exit (or Ctrl-D) powers off."
                setsid cttyhack sh -l

                """
        }
    }

    /// busybox + libraries + agent + /init, rebuilt when the agent changes.
    func baseArchive(agent: URL) throws -> URL {
        try FileLock.holding(work.appendingPathComponent("base.lock")) { try makeBaseArchive(agent: agent) }
    }

    func makeBaseArchive(agent: URL) throws -> URL {
        let directory = work.appendingPathComponent("base")
        let archiveURL = directory.appendingPathComponent("base.cpio")
        let agentDate = (try? FileManager.default.attributesOfItem(atPath: agent.path))?[.modificationDate] as? Date
        let archiveDate = (try? FileManager.default.attributesOfItem(atPath: archiveURL.path))?[.modificationDate] as? Date
        if let agentDate, let archiveDate, archiveDate > agentDate { return archiveURL }

        let tree = directory.appendingPathComponent("tree")
        try? FileManager.default.removeItem(at: directory)
        let manager = FileManager.default
        for path in ["bin", "dev", "proc", "sys", "tmp", "xtun", "lib/x86_64-linux-gnu", "lib64"] {
            try manager.createDirectory(at: tree.appendingPathComponent(path), withIntermediateDirectories: true)
        }
        try manager.copyItem(atPath: InitramfsBuilder.busybox, toPath: tree.appendingPathComponent("bin/busybox").path)
        for library in InitramfsBuilder.libraries {
            let resolved = URL(fileURLWithPath: library).resolvingSymlinksInPath()
            try manager.copyItem(at: resolved, to: tree.appendingPathComponent(String(library.dropFirst())))
        }
        try Shell.must(["strip", "-o", tree.appendingPathComponent("xtun/xtun-agent").path, agent.path])
        let initURL = tree.appendingPathComponent("init")
        try InitramfsBuilder.initScript.write(to: initURL, atomically: true, encoding: .utf8)
        try manager.setAttributes([.posixPermissions: 0o755], ofItemAtPath: initURL.path)
        try archive(tree, to: archiveURL)
        return archiveURL
    }

    /// `find . | cpio -o -H newc` in `tree`.
    func archive(_ tree: URL, to output: URL) throws {
        try Shell.must(["sh", "-c", "find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 > '\(output.path)'"],
                       in: tree)
    }
}
