public import MossShadow
public import MossStore

/// MossShadow's store protocol on the one database (ARCHITECTURE.md, "Persistence").
public struct ShadowStoreAdapter: ShadowStore {
    let database: MossDatabase

    public init(database: MossDatabase) {
        self.database = database
    }

    public func loadShadow(_ key: ShadowKey) async throws -> StoredShadowRecord? {
        try await database.loadShadow(thing: key.thing, name: key.name).map { row in
            StoredShadowRecord(
                key: key,
                version: row.version,
                state: row.state,
                metadata: row.metadata,
                deletedAt: row.deletedAt,
                updatedAt: row.updatedAt
            )
        }
    }

    public func commitShadows(_ records: [StoredShadowRecord]) async throws {
        try await database.commitShadows(
            records.map { record in
                ShadowRow(
                    thing: record.key.thing,
                    name: record.key.name,
                    version: record.version,
                    state: record.state,
                    metadata: record.metadata,
                    deletedAt: record.deletedAt,
                    updatedAt: record.updatedAt
                )
            }
        )
    }

    public func listShadows(thing: String?, after: ShadowKey?, limit: Int) async throws -> [ShadowSummary] {
        try await database.listShadows(thing: thing, afterThing: after?.thing, afterName: after?.name, limit: limit)
            .map { ShadowSummary(thing: $0.thing, name: $0.name, version: $0.version) }
    }

    public func deleteAllShadows() async throws {
        try await database.deleteAllShadows()
    }
}
