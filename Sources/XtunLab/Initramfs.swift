import Foundation
import XtunChecks

/// What the guest does after boot.
public enum GuestTask: Sendable, Equatable {
    /// Run the agent with this command line and power off.
    case check(AgentCommand)
    /// Load the module and give an interactive shell on the console; from
    /// stage 06 with the persistent tap xtun and tun.ko beside it.
    case shell(Stage)
    /// Run a shell script (its output goes to the console) and power off.
    case script(String)
}

/// Builds the guest's initramfs: a cached base archive (busybox, the C
/// runtime the agent needs, the agent, /init) and a small per-run archive
/// (the module and what to do), concatenated as the kernel allows.
public struct InitramfsBuilder: Sendable {
    public let work: URL
    static let busybox = "/bin/busybox"
    /// The shared libraries a --static-swift-stdlib binary still needs.
    static let standardLibraries = [
        "/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libm.so.6",
        "/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libgcc_s.so.1",
        "/lib64/ld-linux-x86-64.so.2",
    ]

    static let standardInit = """
        #!/bin/busybox sh
        /bin/busybox --install -s /bin
        mount -t proc proc /proc
        mount -t sysfs sysfs /sys
        mount -t devtmpfs devtmpfs /dev
        mount -t debugfs debugfs /sys/kernel/debug
        . /xtun/run.sh
        poweroff -f

        """

    /// Where the guest finds the agent and the module.
    public static let guestAgent = "/xtun/xtun-agent"
    public static let guestModule = "/xtun/xtun.ko"

    /// What goes into the base archive besides busybox and the agent.
    var initScript = InitramfsBuilder.standardInit
    var libraries = InitramfsBuilder.standardLibraries

    public init(work: URL) { self.work = work }

    /// The initramfs for one run.
    /// `kernelModules`, when given, go to /xtun/kmod and the host's root is
    /// mounted at /host before the task runs (`HostShare`).
    /// `programs` (the stage's own, like xtun_test) go to /xtun next to the module.
    public func build(agent: URL, module: URL, programs: [URL] = [], task: GuestTask, name: String,
                      kernelModules: [GuestModules.Module]? = nil) throws -> URL {
        let base = try baseArchive(agent: agent)
        let runDirectory = work.appendingPathComponent("runs/\(name)")
        let tree = runDirectory.appendingPathComponent("tree")
        try? FileManager.default.removeItem(at: runDirectory)
        try FileManager.default.createDirectory(at: tree.appendingPathComponent("xtun"),
                                                withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: module, to: tree.appendingPathComponent(String(InitramfsBuilder.guestModule.dropFirst())))
        for program in programs {
            try FileManager.default.copyItem(at: program, to: tree.appendingPathComponent("xtun/\(program.lastPathComponent)"))
        }
        var script = InitramfsBuilder.runScript(task)
        if let kernelModules {
            let directory = tree.appendingPathComponent("xtun/kmod")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            for (index, module) in kernelModules.enumerated() {
                // The glob in HostShare.mountScript loads them in this order.
                try module.contents.write(to: directory.appendingPathComponent(
                    String(format: "%02d-%@.ko", index, module.name)))
            }
            let runner = tree.appendingPathComponent(String(HostShare.runner.dropFirst()))
            try HostShare.runnerScript.write(to: runner, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: runner.path)
            script = HostShare.mountScript + script
        }
        try script.write(to: tree.appendingPathComponent("xtun/run.sh"), atomically: true, encoding: .utf8)
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
        case .check(let command):
            return shellWords([guestAgent] + command.arguments) + "\n"
        case .shell(let stage):
            let ctl = stage >= .stage06
            let here = ctl ? "/dev/xtun, its persistent tap xtun and tun.ko's /dev/net/tun are here" : "/dev/xtun and xtun are here"
            return """
                \(shellWords([guestAgent] + AgentCommand.load(module: guestModule, makesTap: ctl).arguments))
                echo "xtun lab shell: \(here). exit (or Ctrl-D) powers off; Ctrl-A x quits QEMU."
                echo "Debian's tools from the host's root (read-only at \(HostShare.guestPath)): \(HostShare.runner) tcpdump -n -i xtun"
                setsid cttyhack sh -l

                """
        case .script(let text):
            return text + "\n"
        }
    }

    /// Words for /bin/sh, each single-quoted.
    static func shellWords(_ words: [String]) -> String {
        words.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
    }

    /// busybox + libraries + agent + /init, kept for as long as none of them changes.
    func baseArchive(agent: URL) throws -> URL {
        try FileLock.holding(work.appendingPathComponent("base.lock")) { try makeBaseArchive(agent: agent) }
    }

    /// What the base archive is made of, by content: the agent, busybox,
    /// each library (resolved) and its place, and /init.
    func baseKey(agent: URL) throws -> String {
        var fingerprint = Fingerprint()
        fingerprint.add(initScript)
        fingerprint.add(file: agent)
        fingerprint.add(file: URL(fileURLWithPath: InitramfsBuilder.busybox))
        for library in libraries {
            fingerprint.add(library)
            fingerprint.add(file: URL(fileURLWithPath: library).resolvingSymlinksInPath())
        }
        return try fingerprint.value()
    }

    func makeBaseArchive(agent: URL) throws -> URL {
        let directory = work.appendingPathComponent("base")
        let archiveURL = directory.appendingPathComponent("base.cpio")
        let keyURL = directory.appendingPathComponent("base.key")
        let key = try baseKey(agent: agent)
        if FileManager.default.fileExists(atPath: archiveURL.path),
           (try? String(contentsOf: keyURL, encoding: .utf8)) == key {
            return archiveURL
        }

        let tree = directory.appendingPathComponent("tree")
        try? FileManager.default.removeItem(at: directory)
        let manager = FileManager.default
        for path in ["bin", "dev", "proc", "sys", "tmp", "xtun", "lib/x86_64-linux-gnu", "lib64"] {
            try manager.createDirectory(at: tree.appendingPathComponent(path), withIntermediateDirectories: true)
        }
        try manager.copyItem(atPath: InitramfsBuilder.busybox, toPath: tree.appendingPathComponent("bin/busybox").path)
        for library in libraries {
            let resolved = URL(fileURLWithPath: library).resolvingSymlinksInPath()
            try manager.copyItem(at: resolved, to: tree.appendingPathComponent(String(library.dropFirst())))
        }
        try Shell.must(["strip", "-o", tree.appendingPathComponent(String(InitramfsBuilder.guestAgent.dropFirst())).path,
                        agent.path])
        let initURL = tree.appendingPathComponent("init")
        try initScript.write(to: initURL, atomically: true, encoding: .utf8)
        try manager.setAttributes([.posixPermissions: 0o755], ofItemAtPath: initURL.path)
        try archive(tree, to: archiveURL)
        try key.write(to: keyURL, atomically: true, encoding: .utf8)
        return archiveURL
    }

    /// `find . | cpio -o -H newc` in `tree`.
    func archive(_ tree: URL, to output: URL) throws {
        try Shell.must(["sh", "-c", "find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 > '\(output.path)'"],
                       in: tree)
    }
}
