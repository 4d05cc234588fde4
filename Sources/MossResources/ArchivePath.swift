import Foundation

/// An entry's path inside an archive, checked: relative, no `..`, no empty name, no NUL. `.` parts and repeated
/// or trailing slashes are dropped, as tar and unzip do.
struct ArchivePath: Sendable, Hashable, CustomStringConvertible {
    let components: [String]

    init(_ raw: String) throws(ResourceError) {
        guard !raw.isEmpty, !raw.contains("\0") else {
            throw ResourceError(.archiveUnsafe, "An entry has an empty or invalid name")
        }
        // Windows zips write backslashes; a backslash would otherwise be part of a Linux file name.
        let path = raw.replacingOccurrences(of: "\\", with: "/")
        guard !path.hasPrefix("/") else {
            throw ResourceError(
                .archiveUnsafe,
                "The entry \"\(raw)\" has an absolute path; an archive entry must be relative"
            )
        }
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init).filter { $0 != "." }
        guard !parts.contains("..") else {
            throw ResourceError(
                .archiveUnsafe,
                "The entry \"\(raw)\" contains \"..\" and would be written outside the resource's directory (zip slip)"
            )
        }
        components = parts
    }

    var isRoot: Bool { components.isEmpty }
    var description: String { components.joined(separator: "/") }

    /// Where a symbolic link at this path pointing at `target` ends up, relative to the archive's root; nil when it
    /// leaves the root (or is absolute).
    func resolvedLinkTarget(_ target: String) -> [String]? {
        guard !target.hasPrefix("/"), !target.isEmpty else { return nil }
        var resolved = Array(components.dropLast())
        for part in target.split(separator: "/", omittingEmptySubsequences: true) {
            switch part {
            case ".": continue
            case "..":
                guard !resolved.isEmpty else { return nil }
                resolved.removeLast()
            default: resolved.append(String(part))
            }
        }
        return resolved
    }
}
