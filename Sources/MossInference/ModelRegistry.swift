/// Where models come from by name: the seam for machine-learning resources (a resource's destination path) and
/// the IPC inference service, which arrive with the resources and functions work.
public protocol ModelRegistry: Sendable {
    /// The loaded model for a resource name, loading it on first use.
    func model(named name: String) async throws -> InferenceModel
}

/// A registry over a fixed map of names to model paths, loading each model once.
public actor DirectoryModelRegistry: ModelRegistry {
    private let paths: [String: String]
    private var loaded: [String: InferenceModel] = [:]

    public init(paths: [String: String]) { self.paths = paths }

    public func model(named name: String) async throws -> InferenceModel {
        if let model = loaded[name] { return model }
        guard let path = paths[name] else { throw InferenceError(.invalidModel, "no model resource named '\(name)'") }
        let model = try InferenceModel.load(path: path)
        loaded[name] = model
        return model
    }
}
