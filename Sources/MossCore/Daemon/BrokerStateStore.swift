import MossBroker
import MossStore

/// The broker's persistence protocol on the one database: the seam where MossBroker meets MossStore,
/// which never import each other (ARCHITECTURE.md, "Seams between modules").
struct BrokerStateStore: BrokerPersistence {
    let database: MossDatabase

    func loadBrokerState() async throws -> PersistedBrokerState {
        let stored = try await database.loadBrokerState()
        return PersistedBrokerState(
            retainedMessages: stored.retainedMessages.map { PersistedRecord(key: $0.key, bytes: $0.bytes) },
            sessions: stored.sessions.map { PersistedRecord(key: $0.key, bytes: $0.bytes) }
        )
    }

    func saveBrokerChanges(_ changes: BrokerStateChanges) async throws {
        guard !changes.isEmpty else { return }
        try await database.applyBrokerBatch(
            BrokerStateBatch(
                retainedUpserts: changes.retainedUpserts.map { StoredRecord(key: $0.key, bytes: $0.bytes) },
                retainedDeletions: changes.retainedDeletions,
                sessionUpserts: changes.sessionUpserts.map { StoredRecord(key: $0.key, bytes: $0.bytes) },
                sessionDeletions: changes.sessionDeletions
            )
        )
    }
}
