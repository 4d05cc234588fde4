import SwiftProtobuf

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Reads a TensorFlow 2 SavedModel directory (`saved_model.pb` + `variables/`) into one graph per signature.
enum SavedModelLoader {
    static func load(directory: String) throws(InferenceError) -> [String: ModelSignature] {
        let path = directory + "/saved_model.pb"
        let savedModel: Tensorflow_SavedModel
        do {
            savedModel = try Tensorflow_SavedModel(serializedBytes: try TensorBundle.read(path))
        } catch let error as InferenceError {
            throw error
        } catch {
            throw InferenceError(.invalidModel, "\(path): not a SavedModel (\(error))")
        }
        guard
            let metaGraph = savedModel.metaGraphs.first(where: { $0.metaInfoDef.tags.contains("serve") })
                ?? savedModel.metaGraphs.first
        else { throw InferenceError(.invalidModel, "\(path): no meta graph") }

        let variablesPrefix = directory + "/variables/variables"
        let bundle: TensorBundle? =
            FileManager.default.fileExists(atPath: variablesPrefix + ".index")
            ? try TensorBundle(prefix: variablesPrefix) : nil
        let importer = TensorFlowImporter(metaGraph: metaGraph, bundle: bundle)
        var signatures: [String: ModelSignature] = [:]
        // `__saved_model_init_op` is TensorFlow's initialisation hook, not a callable signature.
        for (name, signature) in metaGraph.signatureDef where name != "__saved_model_init_op" {
            do {
                signatures[name] = try importer.signature(named: name, signature)
            } catch {
                throw InferenceError(error.kind, "signature '\(name)': \(error.message)")
            }
        }
        guard !signatures.isEmpty else { throw InferenceError(.invalidModel, "\(path): no signatures") }
        return signatures
    }
}
