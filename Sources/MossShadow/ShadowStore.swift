/// A shadow as the store keeps it: its JSON, or only its last version once deleted (the tombstone).
public struct StoredShadowRecord: Sendable, Hashable {
    public var key: ShadowKey
    public var version: Int64
    /// `{"desired":…,"reported":…}`; nil for a deleted shadow.
    public var state: [UInt8]?
    /// The metadata mirror of `state`; nil for a deleted shadow.
    public var metadata: [UInt8]?
    /// When the shadow was deleted (epoch seconds); nil while it exists.
    public var deletedAt: Int64?
    /// When it last changed (epoch seconds).
    public var updatedAt: Int64

    public init(
        key: ShadowKey,
        version: Int64,
        state: [UInt8]?,
        metadata: [UInt8]?,
        deletedAt: Int64?,
        updatedAt: Int64
    ) {
        self.key = key
        self.version = version
        self.state = state
        self.metadata = metadata
        self.deletedAt = deletedAt
        self.updatedAt = updatedAt
    }
}

/// One line of a shadow listing.
public struct ShadowSummary: Sendable, Hashable, Codable {
    public var thing: String
    /// nil for the classic shadow.
    public var name: String?
    public var version: Int64

    public init(thing: String, name: String?, version: Int64) {
        self.thing = thing
        self.name = name
        self.version = version
    }
}

/// What the shadow service needs from durable storage (ARCHITECTURE.md, "Persistence"); MossStore implements it.
public protocol ShadowStore: Sendable {
    /// The shadow's record, live or deleted, or nil if it never existed (or its tombstone was dropped).
    func loadShadow(_ key: ShadowKey) async throws -> StoredShadowRecord?
    /// Writes every record in one transaction: when this returns they are all on disk, or it throws and none is.
    func commitShadows(_ records: [StoredShadowRecord]) async throws
    /// Existing shadows, ordered by thing then name (classic first); only `thing`'s when given; those after
    /// `after` in that order; at most `limit`.
    func listShadows(thing: String?, after: ShadowKey?, limit: Int) async throws -> [ShadowSummary]
    /// Removes every shadow and tombstone in one transaction (V1's reset deployment).
    func deleteAllShadows() async throws
}
