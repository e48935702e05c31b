// swift-tools-version: 6.2
import PackageDescription

// Layers, each a target, so the compiler checks that dependencies point down only:
//   halab (CLI) → HALab (labs, scenarios, verify, reports) → HALabModel | HALabBackends → HALabSystem
// HALabModel (keepalived grammar, VRRP model, check) depends on nothing else of halab.
let package = Package(
    name: "halab",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "HALab", targets: ["HALab"]),
        .executable(name: "halab", targets: ["halab"]),
        .executable(name: "halab-init", targets: ["halab-init"]),
        .executable(name: "halab-probe", targets: ["halab-probe"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1")
    ],
    targets: [
        // The libvirt C API, for the libvirt backend (VMs).
        .systemLibrary(name: "CLibvirt", pkgConfig: "libvirt", providers: [.apt(["libvirt-dev"])]),
        // The system edge: running programs, files, the process table, libvirt's C API, the guest agent.
        // prctl(2), which Swift cannot call (it is variadic).
        .target(name: "CProcessControl"),
        .target(
            name: "HALabSystem",
            dependencies: ["CLibvirt", "CProcessControl", .product(name: "Subprocess", package: "swift-subprocess")]
        ),
        // keepalived.conf and VRRP: pure, no I/O of its own, nothing else of halab.
        .target(name: "HALabModel"),
        // Where labs run: the LabBackend protocol, namespaces, libvirt VMs, the node image.
        .target(name: "HALabBackends", dependencies: ["HALabSystem"]),
        // Labs, scenarios, expectations, verify, reports, timelines, benchmarks.
        .target(
            name: "HALab",
            dependencies: ["HALabModel", "HALabBackends", "HALabSystem", .product(name: "Yams", package: "Yams")]
        ),
        .executableTarget(
            name: "halab",
            dependencies: [
                "HALab", "HALabBackends", "HALabModel", "HALabSystem",
                .product(name: "ArgumentParser", package: "swift-argument-parser")
            ]
        ),
        // PID 1 of every lab node: tiny, no Foundation, so each node stays light.
        .executableTarget(name: "halab-init"),
        // The failover probe, run inside a node: one process, no process per request.
        .executableTarget(name: "halab-probe"),
        .testTarget(
            name: "HALabTests",
            dependencies: [
                "halab", "HALab", "HALabModel", "HALabBackends", "HALabSystem",
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "Yams", package: "Yams")
            ]
        )
    ],
    swiftLanguageModes: [.v6]
)
