import MossDeploy

/// The interpreter each Python runtime name runs on.
struct PythonInterpreters: Sendable {
    var standard: String
    var byRuntime: [String: String]

    init(_ configuration: CoreConfiguration.Functions) {
        self.standard = configuration.python
        self.byRuntime = configuration.pythonRuntimes
    }

    func interpreter(for runtime: GroupDefinition.Runtime) -> String { byRuntime[runtime.rawValue] ?? standard }
}
