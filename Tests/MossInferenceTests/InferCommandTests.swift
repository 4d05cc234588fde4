import Foundation
import Testing

/// `moss infer` end to end: the built executable on the tutorial's unzipped models.
@Suite(.enabled(if: TestData.seedModelsAvailable, "the tutorial's models (../shared/seed-models) are not present"))
struct InferCommandTests {
    struct Result {
        var status: Int32
        var output: String
        var error: String
    }

    func moss(_ arguments: [String]) throws -> Result {
        let binary = TestData.packageRoot.appendingPathComponent(".build/debug/moss")
        try #require(
            FileManager.default.isExecutableFile(atPath: binary.path),
            "build the moss executable first (swift build)"
        )
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            output: String(decoding: out, as: UTF8.self),
            error: String(decoding: err, as: UTF8.self)
        )
    }

    @Test func printsTensorFlowsNumbers() throws {
        let standardiser = try TestData.seedModel("standardiser")
        let rain = try TestData.seedModel("rain_predictor")
        let first = try moss(["infer", standardiser, "--input", "x=1005,21,78"])
        #expect(first.status == 0, "\(first.error)")
        #expect(first.output == #"{"x_prime": [-0.015612147748470306, 4.067440986633301, 0.3393971025943756]}"# + "\n")
        let batch = try moss([
            "infer", rain, "--signature", "serving_default", "--input",
            "input=[[-0.015612147748470306, 4.067440986633301, 0.3393971025943756]]",
        ])
        #expect(batch.status == 0, "\(batch.error)")
        let decoded = try JSONSerialization.jsonObject(with: Data(batch.output.utf8)) as? [String: [[Double]]]
        let y = try #require(decoded?["y"]?.first?.first)
        #expect(abs(y - 0.1579284369945526) <= 1e-6)
    }

    @Test func readsInputsFromFiles() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("moss-input-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data("[[1005, 21, 78]]".utf8).write(to: file)
        let result = try moss(["infer", try TestData.seedModel("standardiser"), "--input", "x=@\(file.path)"])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.hasPrefix(#"{"x_prime": [[-0.015612147748470306, "#))
    }

    @Test(arguments: [
        (["--input", "y=1,2,3"], "unknown input 'y'; the signature's inputs are x"),
        (["--input", "x=1,2"], "input 'x' has shape [2], the signature expects (3)"),
        ([String](), "missing input 'x'"),
        (
            ["--signature", "nope", "--input", "x=1,2,3"],
            "no signature 'nope'; the model has serving_default, single_input"
        ),
        (["--input", "x=[1, 2"], "input 'x': invalid JSON tensor at character 6: unexpected end inside an array"),
    ])
    func failsWithTheReason(arguments: [String], reason: String) throws {
        let result = try moss(["infer", try TestData.seedModel("standardiser")] + arguments)
        #expect(result.status == 1)
        #expect(result.output.isEmpty)
        #expect(result.error == "moss infer: \(reason)\n")
    }
}
