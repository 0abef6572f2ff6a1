import Foundation

/// How the lab builds a kernel of its own: a Debian source package, a base
/// configuration, and the options that must end up set.
public struct KernelRecipe: Sendable, Hashable, CustomStringConvertible {
    /// The suite whose source package is built.
    public let suite: String
    public let sourcePackage: String
    /// `make` targets that write the base .config, then config fragments
    /// from the tree merged onto it.
    let baseTargets: [String]
    let treeFragments: [String]
    /// The lab's own options, merged last.
    public let fragment: String
    /// Measured on a 2-core machine (see the book's debugging appendix).
    let estimate: String
    /// How many files the build compiles, for the progress line.
    let compiledFiles: Int

    /// What must be built in for the lab and for catching driver bugs: if
    /// Kconfig drops one (a dependency missing), the build stops and says so.
    var required: [String] {
        fragment.split(separator: "\n").filter { $0.hasPrefix("CONFIG_") && $0.hasSuffix("=y") }
            .map { String($0.dropLast(2)) }
    }

    /// Names the recipe by its content, so a changed recipe is a new kernel.
    public var description: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in (sourcePackage + baseTargets.joined() + treeFragments.joined() + fragment).utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        return "built from Debian \(suite)'s \(sourcePackage), configuration \(String(hash >> 32, radix: 16))"
    }

    /// Debian 12's 6.1 with the sanitizers and checkers that catch a first
    /// driver's bugs cheaply, and only what the lab's guest needs.
    public static let debug = KernelRecipe(
        suite: "bookworm", sourcePackage: "linux-source-6.1",
        baseTargets: ["x86_64_defconfig"], treeFragments: ["kernel/configs/kvm_guest.config"],
        fragment: """
            # What the lab's guest needs: modules (force unload for the book's
            # rmmod -f), the initramfs, serial consoles, networking, tun, veth,
            # netconsole, 9p over virtio, ftrace, debugfs.
            CONFIG_MODULES=y
            CONFIG_MODULE_UNLOAD=y
            CONFIG_MODULE_FORCE_UNLOAD=y
            # CONFIG_MODULE_SIG is not set
            CONFIG_BLK_DEV_INITRD=y
            CONFIG_DEVTMPFS=y
            CONFIG_SERIAL_8250=y
            CONFIG_SERIAL_8250_CONSOLE=y
            CONFIG_NET=y
            CONFIG_INET=y
            CONFIG_IPV6=y
            CONFIG_PACKET=y
            CONFIG_UNIX=y
            CONFIG_TUN=y
            CONFIG_VETH=y
            CONFIG_NETCONSOLE=y
            CONFIG_NETCONSOLE_DYNAMIC=y
            CONFIG_CONFIGFS_FS=y
            CONFIG_NETWORK_FILESYSTEMS=y
            CONFIG_9P_FS=y
            CONFIG_NET_9P=y
            CONFIG_NET_9P_VIRTIO=y
            CONFIG_VIRTIO_PCI=y
            CONFIG_FTRACE=y
            CONFIG_FUNCTION_TRACER=y
            CONFIG_DEBUG_FS=y
            CONFIG_MAGIC_SYSRQ=y
            CONFIG_DEBUG_INFO_NONE=y
            # What catches driver bugs: out-of-bounds and use-after-free
            # (KASAN), leaks (kmemleak, scanned by the agent), locking
            # (lockdep), sleeping in atomic context, list corruption,
            # undefined behaviour, hung tasks, and failing allocations on
            # purpose (failslab with fail-nth, for the error paths).
            CONFIG_KASAN=y
            CONFIG_KASAN_GENERIC=y
            CONFIG_KASAN_INLINE=y
            CONFIG_DEBUG_KMEMLEAK=y
            CONFIG_DEBUG_KMEMLEAK_MEM_POOL_SIZE=16000
            # CONFIG_DEBUG_KMEMLEAK_AUTO_SCAN is not set
            # CONFIG_DEBUG_KMEMLEAK_DEFAULT_OFF is not set
            CONFIG_PROVE_LOCKING=y
            CONFIG_DEBUG_ATOMIC_SLEEP=y
            CONFIG_DEBUG_LIST=y
            CONFIG_UBSAN=y
            CONFIG_UBSAN_BOUNDS=y
            CONFIG_DETECT_HUNG_TASK=y
            CONFIG_SOFTLOCKUP_DETECTOR=y
            CONFIG_SLUB_DEBUG=y
            CONFIG_FAULT_INJECTION=y
            CONFIG_FAILSLAB=y
            CONFIG_FAULT_INJECTION_DEBUG_FS=y
            # What the guest never uses, for a shorter build.
            # CONFIG_DRM is not set
            # CONFIG_SOUND is not set
            # CONFIG_USB_SUPPORT is not set
            # CONFIG_WLAN is not set
            # CONFIG_WIRELESS is not set
            # CONFIG_CFG80211 is not set
            # CONFIG_NFS_FS is not set
            # CONFIG_NFSD is not set
            # CONFIG_CIFS is not set
            # CONFIG_NETFILTER is not set
            # CONFIG_ETHERNET is not set
            # CONFIG_HID is not set
            # CONFIG_AGP is not set
            # CONFIG_ATA is not set
            # CONFIG_SCSI is not set
            # CONFIG_SECURITY_SELINUX is not set
            # CONFIG_AUDIT is not set
            # CONFIG_EFI is not set
            # CONFIG_FB is not set
            # CONFIG_INPUT_MOUSE is not set
            # CONFIG_INPUT_JOYSTICK is not set

            """,
        estimate: "about 13 minutes on 2 cores", compiledFiles: 1900)
}

/// Builds a `KernelRecipe` into the cache: downloads the source package,
/// configures, compiles, and leaves a tree that out-of-tree modules build
/// against. Reports progress with an estimate; never touches /boot.
struct KernelBuild {
    let recipe: KernelRecipe
    /// `cache/kernels/<label>`.
    let home: URL
    let archive: DebianArchive

    func build(progress: (String) -> Void) throws -> ProvisionedKernel {
        for tool in ["make", "gcc", "flex", "bison", "bc", "tar"] where Shell.which(tool) == nil {
            throw LabError.environment("\(tool) is missing: building the debug kernel needs it (./setup installs it)")
        }
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        try archive.update(progress: progress)
        let source = try archive.version(of: recipe.sourcePackage)
        let tree = home.appendingPathComponent(recipe.sourcePackage)
        let unpacked = home.appendingPathComponent("source.version")
        // A tree of the same source is reused: make rebuilds only what a new configuration changes.
        if (try? String(contentsOf: unpacked, encoding: .utf8)) != source.version {
            try? FileManager.default.removeItem(at: tree)
            try? FileManager.default.removeItem(at: unpacked)
            progress("downloading \(recipe.sourcePackage) \(source.version)")
            let debs = home.appendingPathComponent("debs")
            try? FileManager.default.removeItem(at: debs)
            guard let deb = try archive.download([recipe.sourcePackage], into: debs).first else {
                throw LabError.environment("apt-get download \(recipe.sourcePackage) gave no .deb")
            }
            try Shell.must(["dpkg-deb", "-x", deb.path, debs.appendingPathComponent("unpacked").path])
            let tarball = debs.appendingPathComponent("unpacked/usr/src/\(recipe.sourcePackage).tar.xz")
            progress("unpacking \(tarball.lastPathComponent)")
            try Shell.must(["tar", "-xJf", tarball.path, "-C", home.path])
            try? FileManager.default.removeItem(at: debs)
            try source.version.write(to: unpacked, atomically: true, encoding: .utf8)
        }

        progress("configuring \(recipe.sourcePackage)")
        try configure(tree)
        let jobs = ProcessInfo.processInfo.activeProcessorCount
        let started = Date()
        var compiled = 0
        let result = try Shell.stream(["make", "-j\(jobs)", "bzImage", "modules"], in: tree) { line in
            guard line.hasPrefix("  CC ") else { return }
            compiled += 1
            let minutes = Int(Date().timeIntervalSince(started)) / 60, seconds = Int(Date().timeIntervalSince(started)) % 60
            let percent = min(99, compiled * 100 / recipe.compiledFiles)
            progress("building the debug kernel (once; \(recipe.estimate)): \(percent)%, "
                + "\(minutes):\(seconds < 10 ? "0" : "")\(seconds) so far")
        }
        guard result.succeeded else {
            throw LabError.command("make bzImage modules in \(tree.path)", result.status, result.output)
        }
        let release = try String(contentsOf: tree.appendingPathComponent("include/config/kernel.release"),
                                 encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        return ProvisionedKernel(
            release: release, version: "\(source.version), debug build",
            vmlinuz: tree.appendingPathComponent("arch/x86/boot/bzImage").path, headers: tree.path,
            packages: [recipe.sourcePackage], origin: recipe.description)
    }

    /// The base configuration, the tree's fragments and the lab's, merged;
    /// then every option the lab needs must still be set.
    func configure(_ tree: URL) throws {
        for target in recipe.baseTargets { try Shell.must(["make", target], in: tree) }
        let fragment = home.appendingPathComponent("xtun-lab.config")
        try recipe.fragment.write(to: fragment, atomically: true, encoding: .utf8)
        try Shell.must(["scripts/kconfig/merge_config.sh", "-m", ".config"] + recipe.treeFragments + [fragment.path],
                       in: tree)
        try Shell.must(["make", "olddefconfig"], in: tree)
        let config = try String(contentsOf: tree.appendingPathComponent(".config"), encoding: .utf8)
        let set = Set(config.split(separator: "\n").filter { $0.hasSuffix("=y") }.map { String($0.dropLast(2)) })
        let missing = recipe.required.filter { !set.contains($0) }
        guard missing.isEmpty else {
            throw LabError.environment("the debug kernel's configuration lost \(missing.joined(separator: ", ")) "
                + "(a Kconfig dependency is not met): fix KernelRecipe.debug")
        }
    }
}
