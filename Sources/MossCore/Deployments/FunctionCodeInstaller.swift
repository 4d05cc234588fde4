import Crypto
import Foundation
import MossDeploy
import MossResources

/// A function's code as V1 deployed it. A directory is used where it is; a `.zip` (what AWS Lambda exports, and what
/// V1 groups were built from) is unpacked once per content into `DATA_DIR/functions/NAME-SHA256PREFIX`, through the
/// resources' safe unpacker (no absolute paths, no `..`, no links leaving it, size and entry limits), with modes every
/// function user can read, and switched in by one rename so a half-unpacked copy is never used.
struct FunctionCodeInstaller: Sendable {
    /// `DATA_DIR/functions`.
    let root: String
    let limits: UnpackLimits

    /// The directory `function`'s workers run from.
    func directory(for function: GroupDefinition.Function) throws(DeploymentStageError) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: function.code, isDirectory: &isDirectory) else {
            throw DeploymentStageError(code: "FunctionCodeMissing", message: "Function \(function.name): its code \(function.code) does not exist")
        }
        if isDirectory.boolValue { return function.code }
        let digest = try sha256(of: function.code, function: function.name)
        let target = root + "/\(function.name)-\(digest.prefix(16))"
        if FileManager.default.fileExists(atPath: target) { return target }
        let staging = root + "/.\(function.name)-\(digest.prefix(16)).partial"
        do {
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            try? FileManager.default.removeItem(atPath: staging)
            // Lambda packages hold the handler at their top level: the unpacked directory itself, never a lone parent.
            _ = try ArchiveUnpacker.unpack(function.code, into: staging, limits: limits)
            try Self.makeReadable(staging)
            try FileManager.default.moveItem(atPath: staging, toPath: target)
        } catch let error as ResourceError {
            try? FileManager.default.removeItem(atPath: staging)
            throw DeploymentStageError(code: "FunctionCodeInvalid", message: "Function \(function.name): its code \(function.code): \(error.message)")
        } catch {
            try? FileManager.default.removeItem(atPath: staging)
            throw DeploymentStageError(code: "FunctionCodeInvalid", message: "Function \(function.name): cannot unpack \(function.code): \(error)")
        }
        return target
    }

    /// Removes unpacked code no function of the deployment in effect uses.
    func removeUnused(keeping used: [String]) {
        let keep = Set(used)
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] where !keep.contains(root + "/" + entry) {
            try? FileManager.default.removeItem(atPath: root + "/" + entry)
        }
    }

    private func sha256(of path: String, function: String) throws(DeploymentStageError) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw DeploymentStageError(code: "FunctionCodeMissing", message: "Function \(function): cannot read its code \(path)")
        }
        defer { try? handle.close() }
        var hash = SHA256()
        while let chunk = try? handle.read(upToCount: 1 << 20), !chunk.isEmpty { hash.update(data: chunk) }
        return hash.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// Directories 0755, files 0644 (0755 when the archive made them executable): the function's user reads them.
    private static func makeReadable(_ directory: String) throws {
        let manager = FileManager.default
        try manager.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory)
        for case let entry as String in manager.enumerator(atPath: directory) ?? FileManager.DirectoryEnumerator() {
            let path = directory + "/" + entry
            let attributes = try manager.attributesOfItem(atPath: path)
            guard (attributes[.type] as? FileAttributeType) != .typeSymbolicLink else { continue }
            let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue ?? 0
            let isDirectory = (attributes[.type] as? FileAttributeType) == .typeDirectory
            try manager.setAttributes([.posixPermissions: isDirectory || mode & 0o111 != 0 ? 0o755 : 0o644], ofItemAtPath: path)
        }
    }
}
