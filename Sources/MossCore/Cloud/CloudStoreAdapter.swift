import MossCloud
import MossShadow
import MossStore

/// The spool (V1's `FileSystem` storage) and the shadow sync's records in the one database.
struct CloudStoreAdapter: SpoolStorage, ShadowSyncStore {
    let database: MossDatabase

    func load() async throws -> [SpooledMessage] {
        try await database.loadSpool().map { SpooledMessage(sequence: $0.sequence, topic: $0.topic, payload: $0.payload) }
    }

    func commit(appended: [SpooledMessage], removed: [Int64]) async throws {
        try await database.commitSpool(
            appended: appended.map { SpoolRow(sequence: $0.sequence, topic: $0.topic, payload: $0.payload) },
            removed: removed
        )
    }

    func loadSyncRecords() async throws -> [ShadowSyncRecord] {
        try await database.loadShadowSyncRows().map { row in
            ShadowSyncRecord(
                key: ShadowKey(thing: row.thing, name: row.name),
                synced: row.synced.flatMap(SyncedState.init(json:)),
                localVersion: row.localVersion,
                cloudVersion: row.cloudVersion,
                syncedAt: row.syncedAt
            )
        }
    }

    func saveSyncRecord(_ record: ShadowSyncRecord) async throws {
        try await database.saveShadowSyncRow(
            ShadowSyncRow(
                thing: record.key.thing,
                name: record.key.name,
                synced: record.synced?.json,
                localVersion: record.localVersion,
                cloudVersion: record.cloudVersion,
                syncedAt: record.syncedAt
            )
        )
    }
}
