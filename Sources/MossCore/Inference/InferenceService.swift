import Foundation
import MossFunctions
import MossInference

/// V1's local inference service for functions (`greengrass_machine_learning_sdk`), run by Moss's own engine: the
/// invocation `GG-ML-INF-{AlgoType}-{ServiceName}` runs the ML resource called ServiceName that is attached to the
/// calling function. The body is `{"inputs": {NAME: nested array}, "signature": optional}`; the reply is V1's
/// `{"Body": "...", "Content-Type": "application/json"}` whose Body is the outputs object `moss infer` prints.
/// Errors the caller made are `Handled` (the SDK's GreengrassInferenceException), with the reason.
actor InferenceService {
    /// Function ARN → (resource name or id → the model's directory), set by each deployment.
    private var attachments: [String: [String: String]] = [:]
    /// Loaded models by directory; a new model version is a new directory, so nothing here goes stale.
    private var models: [String: InferenceModel] = [:]

    func setAttachments(_ attachments: [String: [String: String]]) {
        self.attachments = attachments
        let inUse = Set(attachments.values.flatMap(\.values))
        models = models.filter { inUse.contains($0.key) }
    }

    func invoke(caller: String, service: String, body: [UInt8], clientContext: String) -> InvocationResult {
        let attached = attachments[caller] ?? [:]
        // AlgoType and ServiceName may both hold hyphens: the service is the suffix that names an attached model.
        let parts = service.split(separator: "-", omittingEmptySubsequences: false)
        let candidates = (1..<max(parts.count, 1)).map { parts[$0...].joined(separator: "-") }
        guard let name = candidates.first(where: { attached[$0] != nil }), let directory = attached[name] else {
            let names = attached.keys.sorted().joined(separator: ", ")
            return .unhandled(
                "no inference service GG-ML-INF-\(service) for this function: its ServiceName must name a machine "
                    + "learning resource attached to it (attached: \(names.isEmpty ? "none" : names))"
            )
        }
        let custom = IPCServer.custom(of: clientContext)
        let contentType = custom["Content-Type"] as? String ?? "application/json"
        guard contentType.hasPrefix("application/json") else {
            return Self.handled("ContentType \(contentType) is not supported: send application/json {\"inputs\": {...}}")
        }
        do {
            let (inputs, signature) = try Self.request(body)
            let model = try loadModel(directory)
            let outputs = try model.signature(named: signature).run(inputs)
            let reply: [String: Any] = ["Body": TensorJSON.format(outputs), "Content-Type": "application/json"]
            return InvocationResult(payload: Array(try JSONSerialization.data(withJSONObject: reply, options: [.sortedKeys])))
        } catch let error as InferenceError {
            return Self.handled("\(name): \(error.message)")
        } catch {
            return Self.handled("\(name): \(error)")
        }
    }

    private func loadModel(_ directory: String) throws(InferenceError) -> InferenceModel {
        if let model = models[directory] { return model }
        let model = try InferenceModel.load(path: directory)
        models[directory] = model
        return model
    }

    /// The inputs (each a JSON number or nested array) and the signature of a request body.
    private static func request(_ body: [UInt8]) throws(InferenceError) -> ([String: Tensor], String?) {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any],
            let inputs = object["inputs"] as? [String: Any]
        else {
            throw InferenceError(.invalidInput, "the body must be JSON {\"inputs\": {NAME: nested array}, \"signature\": optional}")
        }
        var tensors: [String: Tensor] = [:]
        for (name, value) in inputs {
            guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed]) else {
                throw InferenceError(.invalidInput, "input '\(name)' is not a number or a nested array")
            }
            tensors[name] = try TensorJSON.parse(String(decoding: data, as: UTF8.self))
        }
        return (tensors, object["signature"] as? String)
    }

    private static func handled(_ message: String) -> InvocationResult {
        let body = ["errorMessage": message, "errorType": "InferenceError"]
        let payload = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
        return InvocationResult(functionError: "Handled", payload: Array(payload))
    }
}
