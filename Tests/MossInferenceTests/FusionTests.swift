import Foundation
import Testing

@testable import MossInference

/// BatchNorm folds into the convolution before it and Relu/Relu6/Clip fuse into it; the fixture tests check that
/// the outputs are still TensorFlow's.
@Suite struct FusionTests {
    @Test func cnnFixtureRunsWithoutSeparateNormalisationOrActivations() throws {
        let model = try InferenceModel.load(path: TestData.fixtures.appendingPathComponent("cnn/saved_model").path)
        let nodes = try model.signature().graph.nodes
        let names = nodes.map(\.op.name)
        #expect(!names.contains("BatchNormalization"))
        #expect(!names.contains("Clip"))
        #expect(!names.contains("Relu"))
        let clamps = nodes.compactMap { node -> ClosedRange<Float>? in
            if case .convolution(let conv) = node.op { return conv.clamp }
            return nil
        }
        #expect(clamps == [0...6, 0...Float.infinity])
    }

    @Test func activationWithAnotherUseIsNotFused() throws {
        // conv → relu, and conv's output is also a graph output: fusing would change that output.
        var graph = Graph()
        let x = graph.addValue(named: "x")
        graph.inputs = [.init(name: "x", value: x, elementType: .float32, shape: [1, 1, 2, 2])]
        let w = graph.addConstant(Tensor(shape: [1, 1, 1, 1], floats: [-1]), named: "w")
        let c = graph.addValue(named: "c")
        let r = graph.addValue(named: "r")
        let conv = Operator.Convolution(
            layout: .nchw,
            filterLayout: .oihw,
            strides: [1, 1],
            dilations: [1, 1],
            padding: .valid,
            group: 1
        )
        graph.nodes = [
            .init(name: "conv", op: .convolution(conv), inputs: [x, w], outputs: [c]),
            .init(name: "relu", op: .unary(.relu), inputs: [c], outputs: [r]),
        ]
        graph.outputs = [.init(name: "c", value: c), .init(name: "r", value: r)]
        graph.fuseConvolutions()
        #expect(graph.nodes.count == 2)
        let signature = ModelSignature(name: "t", inputs: [], outputNames: ["c", "r"], graph: graph)
        let out = try signature.run(["x": Tensor(shape: [1, 1, 2, 2], floats: [1, -2, 3, -4])])
        #expect(out["c"]?.floats == [-1, 2, -3, 4])
        #expect(out["r"]?.floats == [0, 2, 0, 4])
    }
}
