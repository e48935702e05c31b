// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "halab",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "HALab", targets: ["HALab"]),
        .executable(name: "halab", targets: ["halab"]),
        .executable(name: "halab-init", targets: ["halab-init"]),
        .executable(name: "halab-probe", targets: ["halab-probe"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        // The libvirt C API, for the libvirt backend (VMs).
        .systemLibrary(name: "CLibvirt", pkgConfig: "libvirt", providers: [.apt(["libvirt-dev"])]),
        .target(
            name: "HALab",
            dependencies: [
                "CLibvirt",
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .executableTarget(
            name: "halab",
            dependencies: [
                "HALab",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // PID 1 of every lab node: tiny, no Foundation, so each node stays light.
        .executableTarget(name: "halab-init"),
        // The failover probe, run inside a node: one process, no process per request.
        .executableTarget(name: "halab-probe"),
        .testTarget(
            name: "HALabTests",
            dependencies: ["HALab", .product(name: "PropertyBased", package: "swift-property-based"), .product(name: "Yams", package: "Yams")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
