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

    /// Keras pads before a stride-2 depthwise layer; the Pad folds into the convolution's padding, in both layouts,
    /// with the same outputs.
    @Test(arguments: [Operator.Layout.nchw, .nhwc])
    func zeroPadFoldsIntoTheConvolution(_ layout: Operator.Layout) throws {
        var random = SeededGenerator(seed: 3)
        let channels = 8
        let shape = layout == .nchw ? [1, channels, 9, 10] : [1, 9, 10, channels]
        var graph = Graph()
        let x = graph.addValue(named: "x")
        graph.inputs = [.init(name: "x", value: x, elementType: .float32, shape: shape)]
        let filter =
            layout == .nchw ? random.tensor([channels, 1, 3, 3]) : random.tensor([3, 3, channels, 1])
        let w = graph.addConstant(filter, named: "w")
        let b = graph.addConstant(random.tensor([channels]), named: "b")
        let pads: [Int] = layout == .nchw ? [0, 0, 0, 0, 0, 0, 1, 1] : [0, 0, 0, 1, 0, 1, 0, 0]
        let paddings = graph.addConstant(
            Tensor(shape: layout == .nchw ? [8] : [4, 2], int64s: pads.map(Int64.init)),
            named: "pads"
        )
        let padded = graph.addValue(named: "padded")
        let y = graph.addValue(named: "y")
        let conv = Operator.Convolution(
            layout: layout,
            filterLayout: layout == .nchw ? .oihw : .hwim,
            strides: [2, 2],
            dilations: [1, 1],
            padding: .valid,
            group: layout == .nchw ? channels : 1,
            clamp: 0...6
        )
        let padOp: Operator =
            layout == .nchw ? .pad(mode: .constant, format: .beginsThenEnds) : .pad(mode: .constant, format: .pairs)
        graph.nodes = [
            .init(name: "pad", op: padOp, inputs: [x, paddings], outputs: [padded]),
            .init(name: "conv", op: .convolution(conv), inputs: [padded, w, b], outputs: [y]),
        ]
        graph.outputs = [.init(name: "y", value: y)]
        let input = random.tensor(shape)
        let unfused = try ModelSignature(name: "t", inputs: [], outputNames: ["y"], graph: graph).run(["x": input])
        graph.fuseConvolutions()
        #expect(graph.nodes.map(\.op.name) == ["Conv"])
        let fused = try ModelSignature(name: "t", inputs: [], outputNames: ["y"], graph: graph).run(["x": input])
        #expect(fused["y"]!.shape == unfused["y"]!.shape)
        #expect(maxDifference(fused["y"]!, unfused["y"]!) < 1e-6)
    }
}
