import Foundation

/// The clean-room Python modules the V1 core shipped (greengrass_common, greengrass_ipc_python_sdk,
/// lambda_runtime), carried as a resource of this module and installed where functions can import them.
public enum PythonRuntime {
    /// Copies the modules into `directory` (replacing an older copy) and returns it, for PYTHONPATH.
    public static func install(into directory: String) throws -> String {
        guard let source = Bundle.module.url(forResource: "python", withExtension: nil) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: "MossFunctions resource python"])
        }
        let manager = FileManager.default
        let staging = directory + ".new"
        try? manager.removeItem(atPath: staging)
        try manager.createDirectory(atPath: (directory as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try manager.copyItem(atPath: source.path, toPath: staging)
        try? manager.removeItem(atPath: directory)
        try manager.moveItem(atPath: staging, toPath: directory)
        return directory
    }

    /// The bootstrap a Python worker runs.
    public static func bootstrap(in directory: String) -> String {
        directory + "/lambda_runtime/lambda_runtime.py"
    }
}
