import CLinux
import XtunChecks

/// Loading and unloading xtun.ko with insmod and rmmod.
struct ModuleControl {
    let path: String
    let name = DriverNames.module
    /// From stage 06 insmod creates no interface: loading then also makes
    /// the persistent tap `xtun` that the earlier stages' checks use.
    var makesTap = false

    var isLoaded: Bool { Sys.exists("/sys/module/\(name)") }

    /// insmod, and from stage 06 the persistent tap.
    func load() -> CommandResult {
        let result = insmod()
        guard result.succeeded, makesTap else { return result }
        return makeTap()
    }

    /// insmod alone.
    func insmod() -> CommandResult { Command.run(["insmod", path], timeout: 15) }

    func unload() -> CommandResult { Command.run(["rmmod", name], timeout: 15) }

    /// `TUNSETIFF(IFF_TAP | IFF_NO_PI, "xtun")` and `TUNSETPERSIST` on
    /// /dev/xtun; a failed result says which call failed.
    func makeTap() -> CommandResult {
        guard let problem = TunNode.createPersistent(node: DriverNames.characterDevice, name: DriverNames.interface,
                                                     flags: IFF_TAP | IFF_NO_PI) else {
            return CommandResult(exitStatus: 0, output: "", timedOut: false)
        }
        return CommandResult(exitStatus: 1, output: "insmod exit 0, then \(problem)", timedOut: false)
    }
}
