import Foundation
import SwiftProtobuf
import Testing

@testable import MossInference

/// The TensorBundle reader's checks, and load-time errors that name what is wrong.
@Suite struct LoaderTests {
    @Test func crc32cKnownAnswers() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
    }

    @Test(.enabled(if: TestData.seedModelsAvailable, "the tutorial's models are not present"))
    func bundleReadsTheStandardisersVariables() throws {
        let bundle = try TensorBundle(prefix: try TestData.seedModel("standardiser") + "/variables/variables")
        #expect(bundle.names.contains("means/.ATTRIBUTES/VARIABLE_VALUE"))
        let means = try bundle.tensor(named: "means/.ATTRIBUTES/VARIABLE_VALUE")
        #expect(means.shape == [3])
        #expect(means.floats! == [1005.2359619, 4.7374167, 71.0542679].map { Float($0) })
    }

    @Test(.enabled(if: TestData.seedModelsAvailable, "the tutorial's models are not present"))
    func corruptedBundlesAreRejected() throws {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("moss-corrupt-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: copy) }
        try FileManager.default.copyItem(at: URL(fileURLWithPath: try TestData.seedModel("standardiser")), to: copy)
        let data = copy.appendingPathComponent("variables/variables.data-00000-of-00001")
        var bytes = try Data(contentsOf: data)
        bytes[13] ^= 0x01  // inside `means`, which starts at offset 12
        try bytes.write(to: data)
        do {
            _ = try InferenceModel.load(path: copy.path)
            Issue.record("a corrupted variable was accepted")
        } catch {
            #expect(error.kind == .invalidModel)
            #expect(error.message.contains("checksum mismatch for 'means/.ATTRIBUTES/VARIABLE_VALUE'"))
        }
        let index = copy.appendingPathComponent("variables/variables.index")
        var indexBytes = try Data(contentsOf: index)
        indexBytes[20] ^= 0x40
        try indexBytes.write(to: index)
        #expect(throws: InferenceError.self) { try TensorBundle(prefix: copy.path + "/variables/variables") }
    }

    @Test func unsupportedONNXOpFailsAtLoadNamingOpAndNode() throws {
        var model = Onnx_ModelProto()
        model.irVersion = 8
        model.opsetImport = [Onnx_OperatorSetIdProto.with { $0.version = 17 }]
        model.graph = Onnx_GraphProto.with { graph in
            graph.input = [Self.valueInfo("x", [2])]
            graph.output = [Self.valueInfo("y", [2])]
            graph.node = [
                Onnx_NodeProto.with {
                    $0.opType = "Relu"
                    $0.name = "relu_1"
                    $0.input = ["x"]
                    $0.output = ["h"]
                },
                Onnx_NodeProto.with {
                    $0.opType = "Erf"
                    $0.name = "erf_1"
                    $0.input = ["h"]
                    $0.output = ["y"]
                },
            ]
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("moss-erf-\(UUID().uuidString).onnx")
        defer { try? FileManager.default.removeItem(at: url) }
        try model.serializedData().write(to: url)
        do {
            _ = try InferenceModel.load(path: url.path)
            Issue.record("a model with Erf loaded")
        } catch {
            #expect(error.kind == .unsupportedOperator)
            #expect(error.message.hasSuffix("unsupported ONNX op 'Erf' (node 'erf_1')"))
        }
        // Without the unsupported node the same graph loads and runs.
        model.graph.node[0].output = ["y"]
        model.graph.node.removeLast()
        try model.serializedData().write(to: url)
        let output = try InferenceModel.load(path: url.path).signature().run(["x": Tensor(shape: [2], floats: [-1, 2])])
        #expect(output["y"]?.floats == [0, 2])
    }

    @Test func unsupportedTensorFlowOpFailsAtLoadNamingOpNodeAndFunction() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("moss-tf-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        func node(
            _ name: String,
            _ op: String,
            _ inputs: [String] = [],
            _ attributes: [String: Tensorflow_AttrValue] = [:]
        ) -> Tensorflow_NodeDef {
            .with {
                $0.name = name
                $0.op = op
                $0.input = inputs
                $0.attr = attributes
            }
        }
        let function = Tensorflow_FunctionDef.with {
            $0.signature.name = "__inference_call_1"
            $0.signature.inputArg = [.with { $0.name = "x" }]
            $0.signature.outputArg = [.with { $0.name = "identity" }]
            $0.nodeDef = [node("Erf", "Erf", ["x"]), node("Identity", "Identity", ["Erf:y:0"])]
            $0.ret = ["identity": "Identity:output:0"]
        }
        let savedModel = Tensorflow_SavedModel.with {
            $0.metaGraphs = [
                .with { meta in
                    meta.metaInfoDef.tags = ["serve"]
                    meta.graphDef.node = [
                        node("serving_default_x", "Placeholder"),
                        node(
                            "StatefulPartitionedCall",
                            "StatefulPartitionedCall",
                            ["serving_default_x"],
                            ["f": .with { $0.func.name = "__inference_call_1" }]
                        ),
                    ]
                    meta.graphDef.library.function = [function]
                    meta.signatureDef["serving_default"] = .with {
                        $0.inputs["x"] = .with { info in
                            info.name = "serving_default_x:0"
                            info.dtype = .dtFloat
                        }
                        $0.outputs["y"] = .with { info in info.name = "StatefulPartitionedCall:0" }
                    }
                }
            ]
        }
        try savedModel.serializedData().write(to: directory.appendingPathComponent("saved_model.pb"))
        do {
            _ = try InferenceModel.load(path: directory.path)
            Issue.record("a SavedModel with Erf loaded")
        } catch {
            #expect(error.kind == .unsupportedOperator)
            #expect(
                error.message
                    == "signature 'serving_default': unsupported TensorFlow op 'Erf' (node 'Erf' in function '__inference_call_1')"
            )
        }
    }

    @Test func missingModelsAreReportedByPath() {
        do {
            _ = try InferenceModel.load(path: "/nonexistent/model")
            Issue.record("a missing model loaded")
        } catch {
            #expect(error.message == "/nonexistent/model: no such file or directory")
        }
    }

    static func valueInfo(_ name: String, _ shape: [Int64]) -> Onnx_ValueInfoProto {
        .with {
            $0.name = name
            $0.type.tensorType.elemType = 1
            $0.type.tensorType.shape.dim = shape.map { size in .with { $0.dimValue = size } }
        }
    }
}
