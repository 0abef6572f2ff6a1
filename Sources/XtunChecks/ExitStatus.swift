/// The exit status of every program the lab ships (`check-step`, `steps`,
/// `xtun-agent`): one convention, documented in each one's `--help`.
public enum ExitStatus: Int32, Sendable {
    /// Everything asked for was done and every check passed.
    case success = 0
    /// A check failed (or, for `steps`, something differs from `driver/`).
    case failure = 1
    /// The command line or the environment was wrong; nothing was checked.
    case usage = 2

    /// The sentence `--help` prints.
    public static let documentation =
        "Exit status: 0 all checks passed, 1 a check failed, 2 usage or environment error."
}
