public import MossShadow

/// What the sync remembers of one shadow (persisted, so a restart merges against it instead of guessing).
public struct ShadowSyncRecord: Sendable, Equatable {
    public var key: ShadowKey
    /// The state both sides last agreed on; nil when they agreed the shadow does not exist.
    public var synced: SyncedState?
    /// The local version that state was read from or written as (local and cloud versions are independent).
    public var localVersion: Int64?
    /// The cloud's version after the last sync; nil when the cloud has no shadow.
    public var cloudVersion: Int64?
    /// Seconds since 1970 of the last completed sync.
    public var syncedAt: Double

    public init(key: ShadowKey, synced: SyncedState?, localVersion: Int64?, cloudVersion: Int64?, syncedAt: Double) {
        self.key = key
        self.synced = synced
        self.localVersion = localVersion
        self.cloudVersion = cloudVersion
        self.syncedAt = syncedAt
    }
}

/// Where the sync keeps its records (the database's `shadow_sync` table).
public protocol ShadowSyncStore: Sendable {
    func loadSyncRecords() async throws -> [ShadowSyncRecord]
    func saveSyncRecord(_ record: ShadowSyncRecord) async throws
}

/// The cloud's shadow calls the sync needs (the IoT data plane; SigV4 or mutual TLS behind it).
public protocol ShadowDataPlane: Sendable {
    /// The shadow document, or nil when the cloud has none (404).
    func get(_ key: ShadowKey) async throws -> [UInt8]?
    /// UpdateThingShadow; returns the accepted document. Throws ``ShadowDataPlaneConflict`` on 409.
    func update(_ key: ShadowKey, document: [UInt8]) async throws -> [UInt8]
    /// DeleteThingShadow; a shadow already gone is not an error.
    func delete(_ key: ShadowKey) async throws
}

/// The cloud refused an update with 409 Version conflict: its shadow changed since the sync last saw it.
public struct ShadowDataPlaneConflict: Error, Sendable {
    public init() {}
}
