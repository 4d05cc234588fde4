import Logging
import MossShadow
import MossTestSupport
import Synchronization
import Testing

@testable import MossCloud

/// The sync engine against a cloud played by a second shadow service (AWS's rules, versions and 409s), counting the
/// calls the sync makes, so loops and echoes show up as extra calls.
@Suite(.timeLimit(.minutes(1))) struct ShadowSyncTests {
    /// The data plane on top of a shadow service standing in for AWS IoT.
    final class ServiceCloud: ShadowDataPlane {
        let service = ShadowService(store: InMemoryShadowStore(), publisher: { _ in })
        let calls = Atomic<Int>(0)

        func get(_ key: ShadowKey) async throws -> [UInt8]? {
            calls.add(1, ordering: .relaxed)
            switch await service.get(key) {
            case .accepted(let reply, _, _, _): return reply
            case .rejected: return nil
            }
        }

        func update(_ key: ShadowKey, document: [UInt8]) async throws -> [UInt8] {
            calls.add(1, ordering: .relaxed)
            switch await service.update(key, payload: document) {
            case .accepted(let reply, _, _, _): return reply
            case .rejected(let error, _) where error.code == 409: throw ShadowDataPlaneConflict()
            case .rejected(let error, _): throw error
            }
        }

        func delete(_ key: ShadowKey) async throws {
            calls.add(1, ordering: .relaxed)
            _ = await service.delete(key)
        }

        func state(_ key: ShadowKey) async -> SyncedState? {
            SyncedState.fromDocument(await service.get(key).reply)?.state
        }
    }

    final class MemorySyncStore: ShadowSyncStore {
        let records = Mutex<[ShadowKey: ShadowSyncRecord]>([:])
        func loadSyncRecords() async throws -> [ShadowSyncRecord] { records.withLock { Array($0.values) } }
        func saveSyncRecord(_ record: ShadowSyncRecord) async throws { records.withLock { $0[record.key] = record } }
    }

    let key = ShadowKey(thing: "sensor")

    /// Runs a local service, the cloud and the sync for `body`.
    func withSync(
        direction: ShadowSyncDirection = .both,
        _ body: (_ local: ShadowService, _ cloud: ServiceCloud, _ sync: ShadowSync) async throws -> Void
    ) async throws {
        let local = ShadowService(store: InMemoryShadowStore(), publisher: { _ in })
        let cloud = ServiceCloud()
        let sync = ShadowSync(
            shadows: local,
            dataPlane: cloud,
            store: MemorySyncStore(),
            logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() },
            subscribe: { _ in }
        )
        let tasks: [Task<Void, Never>] = [Task { await local.run() }, Task { await cloud.service.run() }, Task { try? await sync.run() }]
        defer {
            local.finish()
            cloud.service.finish()
            for task in tasks { task.cancel() }
        }
        sync.setTargets([.init(key: key, direction: direction)])
        try await waitUntil("the shadow is compared") { sync.statuses.first?.state == .synced }
        try await body(local, cloud, sync)
    }

    func state(_ json: String) -> SyncedState? { SyncedState(json: Array(json.utf8)) }

    func update(_ service: ShadowService, _ state: String) async -> Int64? {
        SyncedState.fromDocument(await service.update(key, payload: Array(#"{"state":\#(state)}"#.utf8)).reply)?.version
    }

    @Test func aLocalUpdateGoesUpOnceAndItsEchoIsIgnored() async throws {
        try await withSync { local, cloud, sync in
            _ = await update(local, #"{"reported":{"t":1}}"#)
            try await waitUntil("the cloud has the reading") { await cloud.state(key) == state(#"{"reported":{"t":1}}"#) }
            let calls = cloud.calls.load(ordering: .relaxed)
            // AWS publishes /update/accepted for the sync's own update, with the version it returned.
            let version = try #require(sync.statuses.first?.cloudVersion)
            sync.cloudMessage(topic: ShadowTopic.accepted(key, .update), payload: Array(#"{"state":{"reported":{"t":1}},"version":\#(version)}"#.utf8))
            _ = await update(local, #"{"reported":{"t":2}}"#)
            try await waitUntil("the second reading is up") { await cloud.state(key) == state(#"{"reported":{"t":2}}"#) }
            // One call for the second reading; none for the echo.
            #expect(cloud.calls.load(ordering: .relaxed) == calls + 1)
        }
    }

    @Test func aCloudChangeComesDownAndIsNotSentBack() async throws {
        try await withSync { local, cloud, sync in
            _ = await update(local, #"{"reported":{"t":1}}"#)
            try await waitUntil("the cloud has the reading") { await cloud.state(key) != nil }
            let version = try #require(await update(cloud.service, #"{"desired":{"interval":5}}"#))
            sync.cloudMessage(topic: ShadowTopic.accepted(key, .update), payload: Array(#"{"state":{"desired":{"interval":5}},"version":\#(version)}"#.utf8))
            try await waitUntil("the desired change is local") {
                SyncedState.fromDocument(await local.get(key).reply)?.state == state(#"{"desired":{"interval":5},"reported":{"t":1}}"#)
            }
            try await waitUntil("the sync recorded it") { sync.statuses.first?.cloudVersion == version }
            // The local write's change event carries the sync's token: the cloud is not written again.
            _ = await update(local, #"{"reported":{"t":2}}"#)
            try await waitUntil("the next reading is up") {
                await cloud.state(key) == state(#"{"desired":{"interval":5},"reported":{"t":2}}"#)
            }
            #expect(sync.statuses.first?.cloudVersion == version + 1)
        }
    }

    @Test func aCloudChangeTheSyncMissedIsMergedOnTheConflict() async throws {
        try await withSync { local, cloud, sync in
            _ = await update(local, #"{"desired":{"a":1},"reported":{"t":1}}"#)
            try await waitUntil("the cloud has it") { await cloud.state(key) != nil }
            // Changed in the cloud with no message (the connection was down): the next local update gets a 409.
            _ = await update(cloud.service, #"{"desired":{"a":3},"reported":{"t":3,"u":3}}"#)
            _ = await update(local, #"{"desired":{"a":2},"reported":{"t":2}}"#)
            let merged = state(#"{"desired":{"a":3},"reported":{"t":2,"u":3}}"#)
            try await waitUntil("both sides hold the merge") {
                let localState = SyncedState.fromDocument(await local.get(key).reply)?.state
                return await cloud.state(key) == merged && localState == merged
            }
            #expect(sync.statuses.first?.state == .synced)
        }
    }

    @Test func cloudToDeviceKeepsLocalChangesLocalAndBringsCloudChangesDown() async throws {
        try await withSync(direction: .cloudToDevice) { local, cloud, sync in
            _ = await update(local, #"{"reported":{"t":1}}"#)
            let version = try #require(await update(cloud.service, #"{"desired":{"interval":5}}"#))
            sync.cloudMessage(topic: ShadowTopic.accepted(key, .update), payload: Array(#"{"state":{"desired":{"interval":5}},"version":\#(version)}"#.utf8))
            // The cloud's shadow is the truth: it replaces the local one, and the local change never went up.
            try await waitUntil("the cloud's shadow is local") {
                SyncedState.fromDocument(await local.get(key).reply)?.state == state(#"{"desired":{"interval":5}}"#)
            }
            #expect(await cloud.state(key) == state(#"{"desired":{"interval":5}}"#))
        }
    }
}
