import Testing

@testable import MossStore

@Suite("MossDatabase: broker state")
struct BrokerStateTests {
    @Test func emptyDatabaseLoadsNothing() async throws {
        let database = try MossDatabase.inMemory()
        #expect(try await database.loadBrokerState() == StoredBrokerState())
    }

    @Test func upsertsInsertThenReplace() async throws {
        let database = try MossDatabase.inMemory()
        try await database.applyBrokerBatch(
            .init(
                retainedUpserts: [.init(key: "b", bytes: [2]), .init(key: "a", bytes: [1])],
                sessionUpserts: [.init(key: "client-1", bytes: [9, 9])]
            )
        )
        try await database.applyBrokerBatch(.init(retainedUpserts: [.init(key: "a", bytes: [7, 7, 7])]))

        let state = try await database.loadBrokerState()
        #expect(state.retainedMessages == [.init(key: "a", bytes: [7, 7, 7]), .init(key: "b", bytes: [2])])
        #expect(state.sessions == [.init(key: "client-1", bytes: [9, 9])])
    }

    @Test func deletionsRemoveOnlyTheirKeysAndIgnoreUnknownOnes() async throws {
        let database = try MossDatabase.inMemory()
        try await database.applyBrokerBatch(
            .init(
                retainedUpserts: [.init(key: "a", bytes: [1]), .init(key: "b", bytes: [2])],
                sessionUpserts: [.init(key: "c1", bytes: [1]), .init(key: "c2", bytes: [2])]
            )
        )
        try await database.applyBrokerBatch(.init(retainedDeletions: ["a", "missing"], sessionDeletions: ["c2"]))

        let state = try await database.loadBrokerState()
        #expect(state.retainedMessages.map(\.key) == ["b"])
        #expect(state.sessions.map(\.key) == ["c1"])
    }

    @Test func retainedAndSessionKeysAreSeparateNamespaces() async throws {
        let database = try MossDatabase.inMemory()
        try await database.applyBrokerBatch(
            .init(retainedUpserts: [.init(key: "same", bytes: [1])], sessionUpserts: [.init(key: "same", bytes: [2])])
        )
        try await database.applyBrokerBatch(.init(retainedDeletions: ["same"]))
        let state = try await database.loadBrokerState()
        #expect(state.retainedMessages.isEmpty)
        #expect(state.sessions == [.init(key: "same", bytes: [2])])
    }

    @Test func emptyAndLargeRecordsRoundTrip() async throws {
        let database = try MossDatabase.inMemory()
        let large = (0..<200_000).map { UInt8(truncatingIfNeeded: $0) }
        try await database.applyBrokerBatch(
            .init(retainedUpserts: [.init(key: "empty", bytes: []), .init(key: "large", bytes: large)])
        )
        let state = try await database.loadBrokerState()
        #expect(state.retainedMessages == [.init(key: "empty", bytes: []), .init(key: "large", bytes: large)])
    }
}
