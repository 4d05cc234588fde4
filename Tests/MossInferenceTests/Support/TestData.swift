import Foundation

/// Locations of the test data that lives outside the repository, and unzipping of the tutorial's models.
enum TestData {
    /// The package root, from this file's path (Tests/MossInferenceTests/Support/TestData.swift).
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The tutorial's models and TensorFlow's outputs: `../shared/seed-models` beside the repository, or `MOSS_SEED_MODELS`.
    static let seedModels: URL = {
        if let override = ProcessInfo.processInfo.environment["MOSS_SEED_MODELS"] {
            return URL(fileURLWithPath: override)
        }
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared/seed-models")
    }()

    static var seedModelsAvailable: Bool {
        FileManager.default.fileExists(atPath: seedModels.appendingPathComponent("reference_outputs.json").path)
    }

    /// The repository's own generated fixtures.
    static let fixtures = packageRoot.appendingPathComponent("Tests/MossInferenceTests/Fixtures")

    /// The seed zips unzipped once per test run into a temporary directory (never into the repository).
    static let unzippedSeedModels: Result<URL, any Error> = Result(catching: {
        let target = FileManager.default.temporaryDirectory.appendingPathComponent("moss-seed-models-\(getpid())")
        try? FileManager.default.removeItem(at: target)
        for model in ["standardiser", "rain_predictor"] {
            let destination = target.appendingPathComponent(model)
            try FileManager.default.createDirectory(at: destination, withIntermediateDirectories: true)
            let unzip = Process()
            unzip.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            unzip.arguments = [
                "unzip", "-q", "-o", seedModels.appendingPathComponent("\(model).zip").path, "-d", destination.path,
            ]
            try unzip.run()
            unzip.waitUntilExit()
            guard unzip.terminationStatus == 0 else {
                throw CocoaError(.fileReadCorruptFile, userInfo: [NSFilePathErrorKey: "\(model).zip"])
            }
        }
        return target
    })

    static func seedModel(_ name: String) throws -> String {
        try unzippedSeedModels.get().appendingPathComponent(name).path
    }

    /// `reference_outputs.json` (TensorFlow 2.21's outputs).
    struct ReferenceOutputs: Decodable {
        struct PipelineCase: Decodable {
            var raw: [Double]
            // swiftlint:disable:next identifier_name
            var x_prime: [Double]
            var y: Double
        }
        struct RainOnly: Decodable {
            var input: [[Double]]
            var y: [Double]
        }
        // swiftlint:disable:next identifier_name
        var pipeline_cases: [PipelineCase]
        // swiftlint:disable:next identifier_name
        var rain_only: RainOnly
    }

    static func referenceOutputs() throws -> ReferenceOutputs {
        try JSONDecoder().decode(
            ReferenceOutputs.self,
            from: Data(contentsOf: seedModels.appendingPathComponent("reference_outputs.json"))
        )
    }
}
