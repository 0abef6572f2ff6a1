// swift-tools-version: 6.0
import PackageDescription

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
        // The stage and check vocabulary shared by host and guest (no Foundation).
        .target(name: "XtunChecks"),
        // The one annotated driver source: markers, stage snapshots, book snippets.
        .target(name: "XtunSource", dependencies: ["XtunChecks"]),
        // Host side of the checker: kernels, builds, initramfs, QEMU, reports.
        .target(name: "XtunLab", dependencies: ["XtunChecks", "XtunSource"]),
        // Linux headers Swift's Glibc module leaves out (epoll, packet sockets).
        .systemLibrary(name: "CLinux"),
        // Runs inside the guest (static Swift stdlib, Glibc only).
        .executableTarget(name: "XtunAgent", dependencies: ["XtunChecks", "CLinux"]),
        .executableTarget(name: "Steps", dependencies: ["XtunSource", argumentParser]),
        .executableTarget(name: "CheckStep", dependencies: ["XtunLab", argumentParser]),
        .testTarget(name: "XtunSourceTests", dependencies: ["XtunSource"]),
        .testTarget(name: "XtunChecksTests", dependencies: ["XtunChecks"]),
        // Depends on CheckStep so that `swift test` builds the binary its CLI tests run.
        .testTarget(name: "XtunLabTests", dependencies: ["XtunLab", "XtunSource", "CheckStep"]),
    ]
)
