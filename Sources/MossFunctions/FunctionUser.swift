#if canImport(Glibc)
import Glibc
#endif

/// The user and groups a function's workers run as (V1's RunAs), switched to by the launcher just before exec.
public struct FunctionUser: Codable, Sendable, Hashable, CustomStringConvertible {
    public var uid: UInt32
    public var gid: UInt32
    /// Extra groups (e.g. the group owners of ML resources, as V1 1.10 added them).
    public var supplementaryGroups: [UInt32]

    public init(uid: UInt32, gid: UInt32, supplementaryGroups: [UInt32] = []) {
        self.uid = uid
        self.gid = gid
        self.supplementaryGroups = supplementaryGroups
    }

    /// "uid 65534 (nobody), gid 65534 (nogroup)".
    public var description: String {
        "uid \(uid)\(Self.userName(uid).map { " (\($0))" } ?? ""), gid \(gid)\(Self.groupName(gid).map { " (\($0))" } ?? "")"
    }

    /// The user's home directory from the password database, or "/" for a uid without an entry.
    public var home: String {
        guard let entry = getpwuid(uid), let directory = entry.pointee.pw_dir else { return "/" }
        return String(cString: directory)
    }

    public static func userName(_ uid: UInt32) -> String? {
        guard let entry = getpwuid(uid), let name = entry.pointee.pw_name else { return nil }
        return String(cString: name)
    }

    public static func groupName(_ gid: UInt32) -> String? {
        guard let entry = getgrgid(gid), let name = entry.pointee.gr_name else { return nil }
        return String(cString: name)
    }

    /// Looks a user and a group up by name; nil unless both exist.
    public static func named(user: String, group: String) -> FunctionUser? {
        guard let userEntry = getpwnam(user), let groupEntry = getgrnam(group) else { return nil }
        return FunctionUser(uid: userEntry.pointee.pw_uid, gid: groupEntry.pointee.gr_gid)
    }

    /// Who Moss itself runs as.
    public static var current: FunctionUser { FunctionUser(uid: geteuid(), gid: getegid()) }
}
