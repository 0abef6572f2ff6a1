import XtunChecks

/// Loading and unloading xtun.ko with insmod and rmmod.
struct ModuleControl {
    let path: String
    let name = DriverNames.module

    var isLoaded: Bool { Sys.exists("/sys/module/\(name)") }

    func load() -> CommandResult { Command.run(["insmod", path], timeout: 15) }
    func unload() -> CommandResult { Command.run(["rmmod", name], timeout: 15) }
}
