// swift-tools-version: 6.0
// ModelRollout: a Kubernetes operator for safe, fast model revisions of vLLM serving.
//
// Layers, lowest first (an import only ever points down):
//   KubeCore          – Kubernetes types, JSON, patches, selectors, request building. No I/O.
//   KubeClient        – transport, kubeconfig/in-cluster config, auth, typed API, retries, rate limit.
//   KubeRuntime       – Watcher, Store, WorkQueue, Controller, LeaderElector, EventRecorder.
//   ModelRolloutCore  – the pure domain: CRD types, log judge, metrics reader, rollout policies. No I/O.
//   ModelRolloutBench – the policy benchmark: a deterministic discrete-event serving simulation (pure).
//   ModelRolloutController – the operator shell: gatherers, route writer, reconciler, manager.
//   ClusterSim        – the emulated API server and simulated workloads (tests, demo, benchmarks).
//   ModelRolloutCLI   – the command-line commands (argument parsing, wiring).
//   modelrollout      – the thin executable.
import PackageDescription

let swiftSettings: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "ModelRollout",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "modelrollout", targets: ["modelrollout"]),
        .library(name: "KubeCore", targets: ["KubeCore"]),
        .library(name: "KubeClient", targets: ["KubeClient"]),
        .library(name: "KubeRuntime", targets: ["KubeRuntime"]),
        .library(name: "ClusterSim", targets: ["ClusterSim"]),
    ],
    dependencies: [
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        .target(
            name: "KubeCore",
            dependencies: [],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "KubeClient",
            dependencies: [
                "KubeCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "KubeRuntime",
            dependencies: [
                "KubeCore",
                "KubeClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ModelRolloutCore",
            dependencies: ["KubeCore"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ModelRolloutBench",
            dependencies: [
                "ModelRolloutCore", "KubeCore", .product(name: "HeapModule", package: "swift-collections"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ModelRolloutController",
            dependencies: [
                "KubeCore", "KubeClient", "KubeRuntime", "ModelRolloutCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ClusterSim",
            dependencies: [
                "KubeCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ModelRolloutCLI",
            dependencies: [
                "KubeCore", "KubeClient", "KubeRuntime", "ClusterSim", "ModelRolloutCore", "ModelRolloutController",
                "ModelRolloutBench",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "modelrollout",
            dependencies: ["ModelRolloutCLI"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ModelRolloutCoreTests", dependencies: ["ModelRolloutCore", "KubeCore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ModelRolloutBenchTests", dependencies: ["ModelRolloutBench", "ModelRolloutCore"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "ModelRolloutControllerTests",
            dependencies: [
                "ModelRolloutController", "ModelRolloutCore", "ModelRolloutBench", "KubeCore", "KubeClient",
                "KubeRuntime", "ClusterSim",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "ClusterSim", "KubeCore", "KubeClient", "ModelRolloutCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "KubeCoreTests", dependencies: ["KubeCore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "KubeClientTests",
            dependencies: ["KubeClient", "KubeCore", "ClusterSim"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KubeRuntimeTests",
            dependencies: ["KubeRuntime", "KubeClient", "KubeCore", "ClusterSim"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ClusterSimTests",
            dependencies: [
                "ClusterSim", "KubeCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
