import MossBroker
import MossStore
import Testing

@testable import MossCore

@Suite("BrokerStateStore: the broker's persistence on MossDatabase")
struct BrokerStateStoreTests {
    @Test func changesRoundTripThroughTheDatabase() async throws {
        let store = BrokerStateStore(database: try MossDatabase.inMemory())
        #expect(try await store.loadBrokerState() == PersistedBrokerState())

        try await store.saveBrokerChanges(
            BrokerStateChanges(
                retainedUpserts: [.init(key: "sensors/1", bytes: [1]), .init(key: "sensors/2", bytes: [2])],
                sessionUpserts: [.init(key: "client-a", bytes: [0xA])]
            )
        )
        try await store.saveBrokerChanges(
            BrokerStateChanges(
                retainedDeletions: ["sensors/1"],
                sessionUpserts: [.init(key: "client-b", bytes: [0xB])],
                sessionDeletions: ["client-a"]
            )
        )

        let state = try await store.loadBrokerState()
        #expect(state.retainedMessages == [.init(key: "sensors/2", bytes: [2])])
        #expect(state.sessions == [.init(key: "client-b", bytes: [0xB])])
    }
}
