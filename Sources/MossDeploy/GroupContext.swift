import Foundation

/// What validating a group file needs from outside it: the core's region and account (ARNs in the file
/// must name them), the directory relative paths start from, and a way to ask whether a path exists.
public struct GroupContext: Sendable {
    public var region: String
    public var account: String
    /// Relative paths in the file are resolved against this directory. ``GroupFile/load(path:context:)``
    /// replaces it with the file's own directory.
    public var baseDirectory: String
    /// Injected so that validation can be tested without files.
    public var fileExists: @Sendable (String) -> Bool

    /// - Parameters:
    ///   - baseDirectory: nil for the current directory.
    ///   - fileExists: nil to ask the file system.
    public init(
        region: String = "us-east-1",
        account: String = "000000000000",
        baseDirectory: String? = nil,
        fileExists: (@Sendable (String) -> Bool)? = nil
    ) {
        self.region = region
        self.account = account
        self.baseDirectory = baseDirectory ?? FileManager.default.currentDirectoryPath
        self.fileExists = fileExists ?? { FileManager.default.fileExists(atPath: $0) }
    }

    /// `path` made absolute against ``baseDirectory``, with `.`, `..` and repeated slashes removed.
    func absolute(_ path: String) -> String {
        let joined = path.hasPrefix("/") ? path : baseDirectory + "/" + path
        var parts: [Substring] = []
        for part in joined.split(separator: "/", omittingEmptySubsequences: true) {
            switch part {
            case ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }
}
