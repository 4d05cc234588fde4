import Foundation
import MossInference
import Testing

/// The tutorial's two SavedModels give TensorFlow's outputs (reference_outputs.json) within 1e-6.
@Suite(.enabled(if: TestData.seedModelsAvailable, "the tutorial's models (../shared/seed-models) are not present"))
struct TutorialModelTests {
    let standardiser: InferenceModel
    let rain: InferenceModel
    let reference: TestData.ReferenceOutputs

    init() throws {
        standardiser = try InferenceModel.load(path: try TestData.seedModel("standardiser"))
        rain = try InferenceModel.load(path: try TestData.seedModel("rain_predictor"))
        reference = try TestData.referenceOutputs()
    }

    @Test func signaturesKeepTensorFlowsNames() throws {
        #expect(standardiser.format == .savedModel)
        #expect(Set(standardiser.signatures.keys) == ["serving_default", "single_input"])
        let serving = try standardiser.signature()
        #expect(serving.inputs.map(\.description) == ["x: float32(3)"])
        #expect(serving.outputNames == ["x_prime"])
        let predictor = try rain.signature()
        #expect(predictor.inputs.map(\.description) == ["input: float32(-1, 3)"])
        #expect(predictor.outputNames == ["y"])
    }

    @Test func pipelineMatchesTensorFlow() throws {
        let standardise = try standardiser.signature().makeSession()
        let predict = try rain.signature().makeSession()
        for testCase in reference.pipeline_cases {
            let raw = Tensor(shape: [3], floats: testCase.raw.map { Float($0) })
            let xPrime = try #require(try standardise.run(["x": raw])["x_prime"])
            #expect(xPrime.shape == [3])
            for (got, want) in zip(xPrime.doubles, testCase.x_prime) {
                #expect(abs(got - want) <= 1e-6, "x_prime for \(testCase.raw)")
            }
            let y = try #require(try predict.run(["input": xPrime.reshaped([1, 3])])["y"])
            #expect(y.shape == [1, 1])
            #expect(abs(y.doubles[0] - testCase.y) <= 1e-6, "y for \(testCase.raw): \(y.doubles[0]) vs \(testCase.y)")
        }
    }

    /// The Lambda feeds a (1, 3) tensor to the (3) signature; TensorFlow broadcasts and returns (1, 3).
    @Test func standardiserAcceptsABatchOfOne() throws {
        let testCase = reference.pipeline_cases[0]
        let output = try standardiser.signature().run([
            "x": Tensor(shape: [1, 3], floats: testCase.raw.map { Float($0) })
        ])
        let xPrime = try #require(output["x_prime"])
        #expect(xPrime.shape == [1, 3])
        for (got, want) in zip(xPrime.doubles, testCase.x_prime) { #expect(abs(got - want) <= 1e-6) }
    }

    @Test func singleInputSignatureGivesTheSameResult() throws {
        let testCase = reference.pipeline_cases[2]
        let output = try standardiser.signature(named: "single_input").run([
            "x": Tensor(shape: [3], floats: testCase.raw.map { Float($0) })
        ])
        for (got, want) in zip(try #require(output["x_prime"]).doubles, testCase.x_prime) {
            #expect(abs(got - want) <= 1e-6)
        }
    }

    @Test func rainPredictorOnABatch() throws {
        let rows = reference.rain_only.input
        let input = Tensor(shape: [rows.count, 3], floats: rows.flatMap { $0.map { Float($0) } })
        let y = try #require(try rain.signature().run(["input": input])["y"])
        #expect(y.shape == [rows.count, 1])
        for (got, want) in zip(y.doubles, reference.rain_only.y) { #expect(abs(got - want) <= 1e-6) }
    }

    @Test func wrongInputsAreRejectedWithTheReason() throws {
        let signature = try standardiser.signature()
        #expect(throws: InferenceError.self) { try signature.run(["pressure": Tensor(shape: [3], floats: [1, 2, 3])]) }
        do {
            _ = try signature.run(["x": Tensor(shape: [2], floats: [1, 2])])
            Issue.record("a (2) input was accepted")
        } catch {
            #expect(error.kind == .invalidInput)
            #expect(error.message == "input 'x' has shape [2], the signature expects (3)")
        }
        do {
            _ = try rain.signature(named: "predict")
            Issue.record("an unknown signature was accepted")
        } catch {
            #expect(error.message == "no signature 'predict'; the model has serving_default")
        }
    }

    /// The prepared path: buffers fixed once, nothing allocated per run.
    @Test func preparedInferenceReusesItsBuffers() throws {
        let prepared = try rain.signature().makeSession().prepare(shapes: ["input": [1, 3]])
        let input = try #require(prepared.inputBuffer("input"))
        for testCase in reference.pipeline_cases {
            for (index, value) in testCase.x_prime.enumerated() { input[index] = Float(value) }
            prepared.run()
            let y = try #require(prepared.outputBuffer("y"))
            #expect(abs(Double(y[0]) - testCase.y) <= 1e-6)
        }
    }
}
