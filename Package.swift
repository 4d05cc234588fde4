// swift-tools-version: 6.2
import PackageDescription

// Settings every target shares (STYLE.md §2.3): import only what you use, and make public imports a decision.
let sharedSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("NonisolatedNonsendingByDefault"),
    .enableUpcomingFeature("InferIsolatedConformances"),
]

let package = Package(
    name: "moss",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "moss", targets: ["moss"]),
        // What a Swift function links to run as a Moss (Greengrass V1) function.
        .library(name: "MossFunctionKit", targets: ["MossFunctionKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation.git", from: "0.9.20"),
    ],
    targets: [
        // Pure: MQTT 3.1.1 and 5.0 packets, codec, topic names and filters. No I/O.
        .target(
            name: "MossMQTT",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")]
        ),
        // Pure: shadow documents, the update and delta rules, errors, limits, and the group-commit service.
        .target(name: "MossShadow"),
        // Pure: the group definition file (YAML or JSON), its validation, canonical form and digest.
        .target(
            name: "MossDeploy",
            dependencies: [
                "MossMQTT",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The subscription table: endpoints, routes, and the broker interceptor that enforces them.
        .target(
            name: "MossRouting",
            dependencies: ["MossMQTT", "MossBroker", .product(name: "Logging", package: "swift-log")]
        ),
        // SigV4, the credentials chain, AWS endpoints and error shapes, and a small signed HTTP client (resources, cloud).
        .target(
            name: "MossAWS",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // Bounded log files: the daemon's system log and functions' output, as V1's loggers' Space.
        .target(name: "MossLogging", dependencies: [.product(name: "Logging", package: "swift-log")]),
        // zlib's inflate for .tar.gz resources (the system library; ZIPFoundation does not export its own).
        .systemLibrary(name: "CMossZlib", providers: [.apt(["zlib1g-dev"])]),
        // Resources: sources (s3, SageMaker, https, file), the service-role policy, safe unpack, versioned install.
        .target(
            name: "MossResources",
            dependencies: [
                "MossAWS",
                "CMossZlib",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The cloud: an MQTT client over mutual TLS to AWS IoT Core, the spooler in front of it, and shadow sync.
        .target(
            name: "MossCloud",
            dependencies: [
                "MossMQTT",
                "MossShadow",
                "MossAWS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // unshare(2) for the container launcher, which Glibc's Swift module does not export.
        .target(name: "CMossLauncher"),
        // Functions: the V1 IPC server, work queues, workers and their processes, the Python runtime files.
        .target(
            name: "MossFunctions",
            dependencies: [
                "CMossLauncher",
                "MossLogging",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Resources/python")]
        ),
        // The runtime and client of a Swift function: handler protocol, publish, shadows, invoke over the V1 IPC.
        // Only NIO: a function's binary stays small.
        .target(
            name: "MossFunctionKit",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // The Swift analogue of the tutorial's republishing function (Examples/README.md).
        .executableTarget(
            name: "Republisher",
            dependencies: ["MossFunctionKit"],
            path: "Examples/Republisher"
        ),
        // A function exercising the rest of MossFunctionKit for IntegrationTests/test_function_kit.py.
        .executableTarget(
            name: "FunctionKitProbe",
            dependencies: ["MossFunctionKit"],
            path: "IntegrationTests/FunctionKitProbe"
        ),
        // The NIO server: listeners, sessions, QoS flows, retained messages, wills, limits.
        .target(
            name: "MossBroker",
            dependencies: [
                "MossMQTT",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]
        ),
        // The one SQLite database (WAL) and its append-only migrations.
        .target(
            name: "MossStore",
            dependencies: [.product(name: "GRDB", package: "GRDB.swift")]
        ),
        // Hot kernels of MossInference in C: per-function target attributes, variant chosen at run time.
        .target(name: "CMossInferenceKernels"),
        // Native inference: tensors, graph IR, kernels, SavedModel and ONNX loaders.
        .target(
            name: "MossInference",
            dependencies: ["CMossInferenceKernels", .product(name: "SwiftProtobuf", package: "swift-protobuf")]
        ),
        // Measures the inference engine for scripts/bench/inference.sh; not part of the daemon.
        .executableTarget(
            name: "MossInferenceBenchmark",
            dependencies: ["MossInference"]
        ),
        // Measures durable shadow updates in process for scripts/bench/shadow.sh; not part of the daemon.
        .executableTarget(
            name: "MossShadowBenchmark",
            dependencies: ["MossCore", "MossShadow", "MossStore"]
        ),
        // Composition root: configuration, certificates, the admin API, the daemon's ServiceGroup.
        .target(
            name: "MossCore",
            dependencies: [
                "MossMQTT",
                "MossAWS",
                "MossBroker",
                "MossCloud",
                "MossDeploy",
                "MossFunctions",
                "MossInference",
                "MossLogging",
                "MossResources",
                "MossRouting",
                "MossShadow",
                "MossStore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        // `moss demo`: the tutorial's rain app on embedded defaults (its models and functions are resources).
        .target(
            name: "MossDemo",
            dependencies: [
                "MossCore",
                "MossCloud",
                "MossLogging",
                "MossShadow",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Assets")]
        ),
        .executableTarget(
            name: "moss",
            dependencies: [
                "MossCore",
                "MossDemo",
                "MossResources",
                "MossCloud",
                "MossFunctions",
                "MossLogging",
                "MossShadow",
                "MossInference",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // Start-up memory (docs/benchmarks.md): ld.gold writes the ~90 000 relative relocations of this PIE as
            // 2 MB of RELA that the loader reads at every start and keeps resident; lld packs them as RELR (17 kB;
            // needs glibc ≥ 2.36, Debian 12). ~1.3 MB less idle RSS.
            linkerSettings: [.unsafeFlags(["-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs"])]
        ),
        // Helpers shared by test targets: free ports, the built `moss` binary, waiting for conditions.
        .target(
            name: "MossTestSupport",
            dependencies: ["MossShadow"]
        ),
        .testTarget(name: "MossLoggingTests", dependencies: ["MossLogging"]),
        .testTarget(
            name: "MossMQTTTests",
            dependencies: [
                "MossMQTT",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "MossBrokerTests",
            dependencies: [
                "MossBroker",
                "MossMQTT",
                "MossTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "MossRoutingTests",
            dependencies: [
                "MossRouting", "MossBroker", "MossMQTT", .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "MossFunctionKitTests",
            dependencies: [
                "MossFunctionKit",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "MossDeployTests",
            dependencies: ["MossDeploy"]
        ),
        .testTarget(
            name: "MossShadowTests",
            dependencies: ["MossShadow", "MossTestSupport"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "MossStoreTests",
            dependencies: ["MossStore", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(
            name: "MossCoreTests",
            dependencies: [
                "MossCore",
                "MossBroker",
                "MossStore",
                "MossTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "MossInferenceTests",
            dependencies: ["MossInference", "CMossInferenceKernels", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "MossResourcesTests",
            dependencies: [
                "MossResources", "MossAWS", "MossTestSupport", "CMossZlib",
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ]
        ),
        .testTarget(
            name: "MossCloudTests",
            dependencies: [
                "MossCloud", "MossShadow", "MossMQTT", "MossTestSupport", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "MossAWSTests",
            dependencies: ["MossAWS", "MossTestSupport", .product(name: "NIOCore", package: "swift-nio")],
            exclude: ["Fixtures"]
        ),
    ]
)

for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + sharedSettings
}
