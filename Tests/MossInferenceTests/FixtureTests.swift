import Foundation
import MossInference
import Testing

/// The repository's own fixtures (scripts/inference/make_fixtures.py): small SavedModels covering every supported
/// TensorFlow op, their tf2onnx exports and hand-written ONNX graphs covering every supported ONNX op, with
/// TensorFlow's (or ONNX Runtime's) outputs.
@Suite struct FixtureTests {
    struct Expected: Decodable {
        var signature: String
        var inputs: [String: NestedArray]?
        var onnx_inputs: [String: NestedArray]  // swiftlint:disable:this identifier_name
        var outputs: [String: NestedArray]
        var tensorflow_ops: [String]?  // swiftlint:disable:this identifier_name
        var onnx_ops: [String]  // swiftlint:disable:this identifier_name
    }

    /// A nested JSON array of numbers, flattened with its shape.
    struct NestedArray: Decodable {
        var shape: [Int]
        var values: [Double]

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Double.self) {
                shape = []
                values = [number]
                return
            }
            let elements = try container.decode([NestedArray].self)
            shape = [elements.count] + (elements.first?.shape ?? [])
            values = elements.flatMap(\.values)
        }

        var tensor: Tensor { Tensor(shape: shape, floats: values.map { Float($0) }) }
    }

    static let names = ["arithmetic", "mlp", "cnn", "onnx_ops"]

    static func expected(_ name: String) throws -> Expected {
        try JSONDecoder().decode(
            Expected.self,
            from: Data(contentsOf: TestData.fixtures.appendingPathComponent("\(name)/expected.json"))
        )
    }

    static func compare(_ outputs: [String: Tensor], _ expected: Expected, _ label: String) throws {
        #expect(Set(outputs.keys) == Set(expected.outputs.keys), "\(label)")
        for (name, want) in expected.outputs {
            let got = try #require(outputs[name], "\(label): no output \(name)")
            #expect(got.shape == want.shape, "\(label) \(name)")
            let worst = zip(got.doubles, want.values).map { abs($0 - $1) - 1e-4 * abs($1) }.max() ?? 0
            #expect(worst <= 1e-5, "\(label) \(name): error \(worst) beyond atol 1e-5 + rtol 1e-4")
        }
    }

    @Test(arguments: names.filter { $0 != "onnx_ops" })
    func savedModelMatchesTensorFlow(_ name: String) throws {
        let expected = try Self.expected(name)
        let model = try InferenceModel.load(path: TestData.fixtures.appendingPathComponent("\(name)/saved_model").path)
        let inputs = (expected.inputs ?? [:]).mapValues(\.tensor)
        try Self.compare(try model.signature(named: expected.signature).run(inputs), expected, "\(name) SavedModel")
    }

    @Test(arguments: names)
    func onnxModelMatchesTheReference(_ name: String) throws {
        let expected = try Self.expected(name)
        let model = try InferenceModel.load(path: TestData.fixtures.appendingPathComponent("\(name)/model.onnx").path)
        #expect(model.format == .onnx)
        try Self.compare(try model.signature().run(expected.onnx_inputs.mapValues(\.tensor)), expected, "\(name) ONNX")
    }

    /// The fixtures together exercise every op of the list on both sides.
    @Test func fixturesCoverEveryOp() throws {
        var tensorflow = Set<String>()
        var onnx = Set<String>()
        for name in Self.names {
            let expected = try Self.expected(name)
            tensorflow.formUnion(expected.tensorflow_ops ?? [])
            onnx.formUnion(expected.onnx_ops)
        }
        let tensorflowOps: Set = [
            "MatMul", "BiasAdd", "AddV2", "Sub", "Mul", "RealDiv", "Sigmoid", "Relu", "Relu6", "Tanh", "Softmax",
            "Conv2D",
            "DepthwiseConv2dNative", "FusedBatchNormV3", "MaxPool", "AvgPool", "Mean", "Pad", "Reshape", "Squeeze",
            "Transpose",
            "ConcatV2", "Identity", "Const", "ReadVariableOp", "NoOp",
        ]
        let onnxOps: Set = [
            "MatMul", "Gemm", "Add", "Sub", "Mul", "Div", "Sigmoid", "Relu", "Clip", "Tanh", "Softmax", "Conv",
            "BatchNormalization",
            "MaxPool", "AveragePool", "GlobalAveragePool", "Pad", "Reshape", "Squeeze", "Flatten", "Transpose",
            "Concat", "Identity",
        ]
        #expect(
            tensorflowOps.subtracting(tensorflow).isEmpty,
            "TensorFlow ops without a fixture: \(tensorflowOps.subtracting(tensorflow).sorted())"
        )
        #expect(onnxOps.subtracting(onnx).isEmpty, "ONNX ops without a fixture: \(onnxOps.subtracting(onnx).sorted())")
    }
}
