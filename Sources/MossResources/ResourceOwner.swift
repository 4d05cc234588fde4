#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// V1's `OwnerSetting` resolved: the group that owns a resource's files and whether it may write them.
public struct ResourceOwner: Sendable, Hashable, Codable {
    /// The group as written (a name or a GID), for listings.
    public var group: String
    public var gid: UInt32
    public var writable: Bool

    /// Resolves a group name or numeric GID; an unknown name is an error, since chown would fail later anyway.
    public init(group: String, writable: Bool) throws(ResourceError) {
        self.group = group
        self.writable = writable
        if let gid = UInt32(group) {
            self.gid = gid
        } else if let entry = getgrnam(group) {
            self.gid = entry.pointee.gr_gid
        } else {
            throw ResourceError(
                .installFailed,
                "The group owner \"\(group)\" is not a group on this gateway; create it (groupadd \(group)) or use a GID"
            )
        }
    }
}
