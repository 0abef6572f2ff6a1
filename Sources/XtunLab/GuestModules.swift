import Foundation

/// Kernel modules the guest loads before its task, taken from the kernel's
/// own Debian package (e.g. 9p, to mount the host's root), with the modules
/// they depend on first. Debian's package has no modules.dep (depmod runs
/// at install time), so the order comes from each module's `depends=` field
/// in its .modinfo section. 6.12's modules are xz-compressed: they are
/// unpacked here, because busybox's insmod hands the kernel the file as is.
public struct GuestModules: Sendable {
    /// `lib/modules/<release>` in the unpacked kernel package.
    let directory: URL

    /// One module to load: its name and its uncompressed contents.
    public struct Module: Equatable, Sendable {
        public let name: String
        public let contents: Data
    }

    init(kernel: ProvisionedKernel) {
        // A Debian package: vmlinuz is <root>/boot/vmlinuz-<release>, the
        // modules are in <root>/lib/modules/<release>. The debug kernel is a
        // build tree (its headers), with modules.builtin at the top.
        let root = URL(fileURLWithPath: kernel.vmlinuz).deletingLastPathComponent().deletingLastPathComponent()
        let package = root.appendingPathComponent("lib/modules/\(kernel.release)")
        directory = FileManager.default.fileExists(atPath: package.path) ? package : URL(fileURLWithPath: kernel.headers)
    }

    init(directory: URL) { self.directory = directory }

    /// `names` and what they depend on, each once, dependencies first.
    /// A name the kernel has built in (`obj-y`, listed in modules.builtin) is left out.
    func resolve(_ names: [String]) throws -> [Module] {
        let files = index()
        let builtIn = builtInModules()
        var loaded: [Module] = []
        var visiting: Set<String> = []
        func visit(_ name: String) throws {
            let name = GuestModules.canonical(name)
            guard !loaded.contains(where: { $0.name == name }), !builtIn.contains(name) else { return }
            guard !visiting.contains(name) else {
                throw LabError.environment("kernel modules depend on each other in a circle at \(name)")
            }
            guard let file = files[name] else {
                throw LabError.environment("the kernel package has no module \(name) in \(directory.path)")
            }
            visiting.insert(name)
            let contents = try GuestModules.uncompressed(file)
            for dependency in GuestModules.dependencies(in: contents) { try visit(dependency) }
            visiting.remove(name)
            loaded.append(Module(name: name, contents: contents))
        }
        for name in names { try visit(name) }
        return loaded
    }

    /// Every module file under kernel/, by canonical name.
    func index() -> [String: URL] {
        var files: [String: URL] = [:]
        let kernel = directory.appendingPathComponent("kernel")
        guard let walker = FileManager.default.enumerator(at: kernel, includingPropertiesForKeys: nil) else { return [:] }
        for case let url as URL in walker {
            let file = url.lastPathComponent
            for suffix in [".ko", ".ko.xz"] where file.hasSuffix(suffix) {
                files[GuestModules.canonical(String(file.dropLast(suffix.count)))] = url
            }
        }
        return files
    }

    /// modules.builtin lists `kernel/fs/9p/9p.ko` for a module built in.
    func builtInModules() -> Set<String> {
        let text = (try? String(contentsOf: directory.appendingPathComponent("modules.builtin"), encoding: .utf8)) ?? ""
        return Set(text.split(separator: "\n").compactMap { line in
            line.split(separator: "/").last.map { GuestModules.canonical(String($0.dropLast(3))) }
        })
    }

    /// Module names use `-` and `_` interchangeably; the kernel reports `_`.
    static func canonical(_ name: String) -> String { name.replacingOccurrences(of: "-", with: "_") }

    static func uncompressed(_ file: URL) throws -> Data {
        guard file.pathExtension == "xz" else { return try Data(contentsOf: file) }
        let output = FileManager.default.temporaryDirectory
            .appendingPathComponent("xtun-module-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString).ko")
        defer { try? FileManager.default.removeItem(at: output) }
        let result = try Shell.run(["sh", "-c", "xz -dc \"$0\" > \"$1\"", file.path, output.path])
        guard result.succeeded else {
            throw LabError.environment("xz -dc \(file.path) failed (xz-utils; ./setup installs it): \(result.output)")
        }
        return try Data(contentsOf: output)
    }

    /// The names in the module's `depends=a,b` .modinfo entry.
    static func dependencies(in contents: Data) -> [String] {
        let key = Array("depends=".utf8)
        let bytes = [UInt8](contents)
        var index = 0
        while index + key.count <= bytes.count {
            // A .modinfo entry starts after a NUL.
            if bytes[index] == key[0], index == 0 || bytes[index - 1] == 0,
               Array(bytes[index..<index + key.count]) == key {
                let start = index + key.count
                let end = bytes[start...].firstIndex(of: 0) ?? bytes.count
                let value = String(decoding: bytes[start..<end], as: UTF8.self)
                return value.split(separator: ",").map(String.init)
            }
            index += 1
        }
        return []
    }
}
