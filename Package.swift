// swift-tools-version: 6.0
import PackageDescription

// The map of these targets, what each owns and may import: Sources/README.md.

let argumentParser = Target.Dependency.product(
    name: "ArgumentParser", package: "swift-argument-parser")

let package = Package(
    name: "xtun-lab",
    products: [
        .executable(name: "check-step", targets: ["CheckStep"]),
        .executable(name: "steps", targets: ["Steps"]),
        .executable(name: "xtun-agent", targets: ["XtunAgent"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // Stages, expectations, suites, pitfalls, the wire protocol and the
        // agent's command line: shared by host and guest (no Foundation).
        .target(name: "XtunChecks"),
        // Frames the checks build and parse, the lab's addresses, seeded
        // randomness: shared by host and guest (no Foundation).
        .target(name: "XtunPackets"),
        // The one annotated driver source: markers, stage snapshots, the book.
        .target(name: "XtunSource", dependencies: ["XtunChecks"]),
        // Host side of the checker: kernels, builds, initramfs, QEMU, judges, reports.
        .target(name: "XtunLab", dependencies: ["XtunChecks", "XtunSource"]),
        // Linux headers Swift's Glibc module leaves out (epoll, packet sockets).
        .systemLibrary(name: "CLinux"),
        // Runs inside the guest (static Swift stdlib, Glibc only).
        .executableTarget(name: "XtunAgent", dependencies: ["XtunChecks", "XtunPackets", "CLinux"]),
        .executableTarget(name: "Steps", dependencies: ["XtunSource", "XtunChecks", argumentParser]),
        .executableTarget(name: "CheckStep", dependencies: ["XtunLab", "XtunChecks", argumentParser]),
        .testTarget(name: "XtunSourceTests", dependencies: ["XtunSource"]),
        .testTarget(name: "XtunChecksTests", dependencies: ["XtunChecks"]),
        .testTarget(name: "XtunPacketsTests", dependencies: ["XtunPackets"]),
        // The agent's parts on the host, and the registry of checks and judges.
        .testTarget(name: "XtunAgentTests", dependencies: ["XtunAgent", "XtunLab", "XtunChecks", "XtunPackets"]),
        // Depends on CheckStep so that `swift test` builds the binary its CLI
        // tests run, and imports its commands to parse with the real parser.
        .testTarget(name: "XtunLabTests", dependencies: ["XtunLab", "XtunSource", "CheckStep", "XtunChecks"],
                    exclude: ["Golden"]),
    ]
)
