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
        try manager.createDirectory(
            atPath: (directory as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o755]
        )
        // Contents only, with modes every function's user can read: copyItem would also try to keep the owner of
        // the build's files, which a daemon not running as root cannot.
        try manager.createDirectory(atPath: staging, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        if let entries = manager.enumerator(atPath: source.path) {
            for case let entry as String in entries {
                let from = source.path + "/" + entry
                let to = staging + "/" + entry
                var isDirectory: ObjCBool = false
                _ = manager.fileExists(atPath: from, isDirectory: &isDirectory)
                if isDirectory.boolValue {
                    try manager.createDirectory(atPath: to, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
                } else {
                    let contents = try Data(contentsOf: URL(fileURLWithPath: from))
                    guard manager.createFile(atPath: to, contents: contents, attributes: [.posixPermissions: 0o644]) else {
                        throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: to])
                    }
                }
            }
        }
        try? manager.removeItem(atPath: directory)
        try manager.moveItem(atPath: staging, toPath: directory)
        return directory
    }

    /// The bootstrap a Python worker runs.
    public static func bootstrap(in directory: String) -> String {
        directory + "/lambda_runtime/lambda_runtime.py"
    }
}
