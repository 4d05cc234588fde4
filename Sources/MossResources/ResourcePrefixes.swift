import Crypto
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// NoContainer functions see their resources the V1 way: under `AWS_GG_RESOURCE_PREFIX`, a directory of their own
/// in which `<prefix><destinationPath>` is a link to the resource's version directory. Only the resources a function
/// is given appear in its prefix.
///
/// A prefix is named after its links (`<root>/.functions/<function>/<digest>`), so a new model version is a new
/// prefix: the function's environment changes and the host restarts it, and a running worker never sees its
/// links change under it.
public struct ResourcePrefixes: Sendable {
    public let root: String

    public init(resourcesRoot: String) {
        root = resourcesRoot + "/" + ResourceInstaller.prefixesDirectory
    }

    /// A link at each destination path (absolute) pointing at its target directory.
    public struct Link: Sendable, Hashable {
        public var destinationPath: String
        public var target: String

        public init(destinationPath: String, target: String) {
            self.destinationPath = destinationPath
            self.target = target
        }
    }

    /// The prefix directory for `function` with `links`, built if it does not exist yet.
    public func prefix(forFunction function: String, links: [Link]) throws(ResourceError) -> String {
        let sorted = links.sorted { $0.destinationPath < $1.destinationPath }
        let text = sorted.map { "\($0.destinationPath)\0\($0.target)" }.joined(separator: "\n")
        let digest = SHA256.hash(data: Data(text.utf8)).prefix(8).map { String(format: "%02x", $0) }.joined()
        let prefix = "\(root)/\(function)/\(digest)"
        if FileManager.default.fileExists(atPath: prefix) { return prefix }
        let building = "\(prefix).\(UUID().uuidString.prefix(8)).tmp"
        do {
            try FileManager.default.createDirectory(atPath: building, withIntermediateDirectories: true)
            for link in sorted {
                let path = building + link.destinationPath
                try FileManager.default.createDirectory(
                    atPath: (path as NSString).deletingLastPathComponent,
                    withIntermediateDirectories: true
                )
                try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: link.target)
            }
            guard rename(building, prefix) == 0 || FileManager.default.fileExists(atPath: prefix) else {
                throw ResourceError(.installFailed, "Could not rename \(building): \(String(cString: strerror(errno)))")
            }
            try? FileManager.default.removeItem(atPath: building)
        } catch let error as ResourceError {
            try? FileManager.default.removeItem(atPath: building)
            throw error
        } catch {
            try? FileManager.default.removeItem(atPath: building)
            throw ResourceError(.installFailed, "Could not build the resource prefix of \(function): \(error)")
        }
        return prefix
    }

    /// Removes every prefix not in `keeping` (full paths).
    public func removeUnused(keeping: Set<String>) {
        for function in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] {
            let directory = "\(root)/\(function)"
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            for name in names where !keeping.contains("\(directory)/\(name)") {
                try? FileManager.default.removeItem(atPath: "\(directory)/\(name)")
            }
            if names.allSatisfy({ !keeping.contains("\(directory)/\($0)") }) {
                try? FileManager.default.removeItem(atPath: directory)
            }
        }
    }
}
