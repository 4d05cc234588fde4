import Foundation
import MossInference
import Testing

/// The optional ONNX Runtime back end against the fixtures' expected outputs and the native engine. Needs the
/// library: `MOSS_ONNXRUNTIME_LIBRARY=/path/to/libonnxruntime.so.1.x` (from the onnxruntime wheel's
/// onnxruntime/capi/), or libonnxruntime.so.1 on the loader's path; skipped otherwise.
@Suite(.enabled(if: ONNXRuntimeLibrary.runtime != nil, "ONNX Runtime not found (set MOSS_ONNXRUNTIME_LIBRARY)"))
struct ONNXRuntimeBackendTests {
    @Test(arguments: ["mlp", "cnn", "onnx_ops"])
    func fixturesMatchTheNativeEngine(_ name: String) throws {
        let runtime = try #require(ONNXRuntimeLibrary.runtime)
        let path = TestData.fixtures.appendingPathComponent("\(name)/model.onnx").path
        let expected = try FixtureTests.expected(name)
        let inputs = expected.onnx_inputs.mapValues(\.tensor)
        let session = try runtime.makeSession(modelPath: path)
        let outputs = try session.run(inputs)
        try FixtureTests.compare(outputs, expected, "\(name) via ONNX Runtime \(runtime.version)")
        let native = try InferenceModel.load(path: path).signature().run(inputs)
        for (key, tensor) in outputs {
            let other = try #require(native[key])
            #expect(tensor.shape == other.shape)
            #expect(zip(tensor.doubles, other.doubles).allSatisfy { abs($0 - $1) <= 1e-4 + 1e-4 * abs($1) }, "\(key)")
        }
    }

    @Test func errorsNameTheProblem() throws {
        let runtime = try #require(ONNXRuntimeLibrary.runtime)
        let session = try runtime.makeSession(
            modelPath: TestData.fixtures.appendingPathComponent("mlp/model.onnx").path
        )
        #expect(throws: InferenceError.self) { try session.run([:]) }
        #expect(throws: InferenceError.self) { try ONNXRuntime.load(libraryPath: "/nonexistent/libonnxruntime.so") }
    }
}

enum ONNXRuntimeLibrary {
    static let runtime: ONNXRuntime? = {
        let candidates = [ProcessInfo.processInfo.environment["MOSS_ONNXRUNTIME_LIBRARY"], "libonnxruntime.so.1"]
            .compactMap { $0 }
        return candidates.lazy.compactMap { try? ONNXRuntime.load(libraryPath: $0) }.first
    }()
}
