#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A model loaded from disk: its signatures, each lowered to the IR and checked op by op.
public struct InferenceModel: Sendable {
    /// The file formats Moss reads.
    public enum Format: String, Sendable, Hashable {
        /// A TensorFlow 2 SavedModel directory (`saved_model.pb`, `variables/`).
        case savedModel
        /// An ONNX model file (`.onnx`), or a directory holding exactly one.
        case onnx
    }

    public let format: Format
    /// The signatures by name (ONNX models have one, `serving_default`).
    public let signatures: [String: ModelSignature]

    /// The signature used when none is named.
    public static let defaultSignatureName = "serving_default"

    init(format: Format, signatures: [String: ModelSignature]) {
        self.format = format
        self.signatures = signatures
    }

    /// Loads a SavedModel directory, an ONNX file, or a directory with one `.onnx` file in it.
    /// Every signature is lowered now, so an unsupported op fails here, naming the op and its node.
    public static func load(path: String) throws(InferenceError) -> InferenceModel {
        guard FileManager.default.fileExists(atPath: path) else {
            throw InferenceError(.invalidModel, "\(path): no such file or directory")
        }
        // Listing succeeds only for a directory (symbolic links followed).
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: path) else {
            guard path.hasSuffix(".onnx") else {
                throw InferenceError(.invalidModel, "\(path): not a model (expected a directory or an .onnx file)")
            }
            return InferenceModel(format: .onnx, signatures: try ONNXLoader.load(file: path))
        }
        if entries.contains("saved_model.pb") {
            return InferenceModel(format: .savedModel, signatures: try SavedModelLoader.load(directory: path))
        }
        let onnxFiles = entries.filter { $0.hasSuffix(".onnx") }
        if onnxFiles.count == 1 {
            return InferenceModel(format: .onnx, signatures: try ONNXLoader.load(file: path + "/" + onnxFiles[0]))
        }
        throw InferenceError(
            .invalidModel,
            onnxFiles.isEmpty
                ? "\(path): neither a SavedModel (no saved_model.pb) nor a directory with an .onnx file"
                : "\(path): more than one .onnx file (\(onnxFiles.sorted().joined(separator: ", ")))"
        )
    }

    /// The named signature, or `serving_default` (or the only signature) when `name` is nil.
    public func signature(named name: String? = nil) throws(InferenceError) -> ModelSignature {
        if let name {
            guard let signature = signatures[name] else {
                throw InferenceError(
                    .unknownSignature,
                    "no signature '\(name)'; the model has \(signatures.keys.sorted().joined(separator: ", "))"
                )
            }
            return signature
        }
        if let signature = signatures[Self.defaultSignatureName] { return signature }
        if signatures.count == 1 { return signatures.first!.value }
        throw InferenceError(
            .unknownSignature,
            "the model has no '\(Self.defaultSignatureName)' signature; name one of \(signatures.keys.sorted().joined(separator: ", "))"
        )
    }
}

/// The declared type and shape of a signature input.
public struct TensorSpec: Sendable, Hashable, CustomStringConvertible {
    public let name: String
    public let elementType: ElementType
    /// nil dimensions are unknown (-1 in TensorFlow); a nil shape means unknown rank.
    public let shape: [Int?]?

    public var description: String {
        guard let shape else { return "\(name): \(elementType)[unknown rank]" }
        return "\(name): \(elementType)(\(shape.map { $0.map(String.init) ?? "-1" }.joined(separator: ", ")))"
    }
}

/// One callable function of a model: named inputs to named outputs.
public struct ModelSignature: Sendable {
    public let name: String
    public let inputs: [TensorSpec]
    public let outputNames: [String]
    let graph: Graph

    init(name: String, inputs: [TensorSpec], outputNames: [String], graph: Graph) {
        self.name = name
        self.inputs = inputs
        self.outputNames = outputNames
        self.graph = graph
    }

    /// A session for running this signature; it keeps the plan (and buffers) for the last input shapes.
    public func makeSession() -> InferenceSession { InferenceSession(signature: self) }

    /// Runs once (plans, allocates and frees); use a session to run repeatedly.
    public func run(_ inputs: [String: Tensor]) throws(InferenceError) -> [String: Tensor] {
        try makeSession().run(inputs)
    }
}
