import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Whether a function's user can reach a path, checked at deployment from the file modes (owner, group, other;
/// ACLs are not read), so a function that could never start is refused with the reason instead of failing in its
/// log.
public enum UserAccess {
    public enum Need: Sendable {
        /// Read a directory's entries and open what is in it.
        case readDirectory
        /// Execute a program.
        case execute
        /// Read a file.
        case read
    }

    /// Nil when `user` can reach `path` as `need` says; otherwise what stops it, e.g.
    /// "cannot enter /tmp/pytest-of-root (mode 0700, ...)". `throughParents: false` checks the path itself only (a
    /// directory bound into a container, whose parents the user never walks).
    public static func obstacle(to path: String, for user: FunctionUser, need: Need, throughParents: Bool = true) -> String? {
        guard let resolved = realpath(path, nil) else { return "\(path) does not exist" }
        let target = String(cString: resolved)
        free(resolved)
        if throughParents {
            var prefix = ""
            for component in target.split(separator: "/").dropLast() {
                prefix += "/" + component
                if let problem = missing(bits: 0o1, at: prefix, for: user, what: "cannot enter") { return problem }
            }
        }
        switch need {
        case .readDirectory: return missing(bits: 0o5, at: target, for: user, what: "cannot read")
        case .execute: return missing(bits: 0o1, at: target, for: user, what: "cannot execute")
        case .read: return missing(bits: 0o4, at: target, for: user, what: "cannot read")
        }
    }

    /// `bits` are the "other" bits wanted (1 = x, 4 = r, 5 = rx), shifted to the owner or group class as applies.
    private static func missing(bits: Int, at path: String, for user: FunctionUser, what: String) -> String? {
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: path)
        } catch {
            return "\(path): \(error.localizedDescription)"
        }
        let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue ?? 0
        let owner = (attributes[.ownerAccountID] as? NSNumber)?.uint32Value ?? 0
        let group = (attributes[.groupOwnerAccountID] as? NSNumber)?.uint32Value ?? 0
        let isDirectory = (attributes[.type] as? FileAttributeType) == .typeDirectory
        let granted: Int
        if user.uid == 0 {
            // Root reads anything, and executes a file only when it has some x bit.
            granted = bits == 0o1 && !isDirectory && (mode & 0o111) == 0 ? 0 : bits
        } else if owner == user.uid {
            granted = (mode >> 6) & 0o7
        } else if group == user.gid || user.supplementaryGroups.contains(group) {
            granted = (mode >> 3) & 0o7
        } else {
            granted = mode & 0o7
        }
        guard granted & bits != bits else { return nil }
        return "\(what) \(path) (mode 0\(String(mode, radix: 8)), owner uid \(owner), group gid \(group))"
    }
}
