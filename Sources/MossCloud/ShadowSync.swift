#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
public import Logging
public import MossShadow
public import ServiceLifecycle
import Synchronization

/// Keeps the shadows a group marks `syncShadow` (and its listed named shadows) equal to their copies in AWS IoT.
///
/// One task handles everything in order: local changes (from ``ShadowService/changes()``), the cloud's
/// `/update/accepted` and `/delete/accepted` messages, reconnects and new targets. A local change goes up as an
/// update of what changed since the last sync, locked to the cloud version the sync last saw; a cloud change, a
/// version conflict, a reconnect or a failure leads to a full comparison: both documents are read and merged three
/// ways against the last synced state (``ShadowSyncMerge``), and each side gets what it lacks. Writes the sync makes
/// locally carry ``clientToken``, so their change events are recognised and not sent back; the cloud's echoes of the
/// sync's own writes are recognised by their version. Local shadow requests never wait for any of this.
public final class ShadowSync: Service, Sendable, CustomStringConvertible {
    /// The clientToken of the sync's local writes.
    public static let clientToken = "moss-cloud-sync"

    /// A shadow to sync and which way.
    public struct Target: Sendable, Hashable {
        public var key: ShadowKey
        public var direction: ShadowSyncDirection

        public init(key: ShadowKey, direction: ShadowSyncDirection) {
            self.key = key
            self.direction = direction
        }
    }

    private enum Event: Sendable {
        case local(ShadowChange)
        case cloud(topic: String, payload: [UInt8])
        case connected
        case targets([Target])
        case retry
    }

    private struct Shared {
        var topics: [String: (key: ShadowKey, deleted: Bool)] = [:]
        var statuses: [ShadowKey: ShadowSyncStatus] = [:]
    }

    private let shadows: ShadowService
    private let dataPlane: any ShadowDataPlane
    private let store: any ShadowSyncStore
    private let logger: Logger
    private let subscribe: @Sendable (Set<String>) -> Void
    private let events: AsyncStream<Event>
    private let eventSink: AsyncStream<Event>.Continuation
    private let shared = Mutex(Shared())
    private let retrySignal = AsyncSignal()

    public var description: String { "ShadowSync" }

    /// - Parameter subscribe: told the cloud topics to subscribe to whenever the targets change.
    public init(
        shadows: ShadowService,
        dataPlane: any ShadowDataPlane,
        store: any ShadowSyncStore,
        logger: Logger,
        subscribe: @escaping @Sendable (Set<String>) -> Void
    ) {
        self.shadows = shadows
        self.dataPlane = dataPlane
        self.store = store
        self.logger = logger
        self.subscribe = subscribe
        (events, eventSink) = AsyncStream.makeStream(of: Event.self)
    }

    // MARK: Inputs

    /// The shadows to sync (from the deployed group); newly added ones are compared at once.
    public func setTargets(_ targets: [Target]) {
        var topics: [String: (key: ShadowKey, deleted: Bool)] = [:]
        for target in targets where target.direction != .deviceToCloud {
            topics[ShadowTopic.accepted(target.key, .update)] = (target.key, false)
            topics[ShadowTopic.accepted(target.key, .delete)] = (target.key, true)
        }
        shared.withLock { $0.topics = topics }
        subscribe(Set(topics.keys))
        eventSink.yield(.targets(targets))
    }

    /// A message from the cloud; ignored unless it is the accepted topic of a synced shadow.
    public func cloudMessage(topic: String, payload: [UInt8]) {
        guard shared.withLock({ $0.topics[topic] != nil }) else { return }
        eventSink.yield(.cloud(topic: topic, payload: payload))
    }

    /// Whether `topic` is one the sync subscribed to.
    public func listens(to topic: String) -> Bool {
        shared.withLock { $0.topics[topic] != nil }
    }

    /// The cloud connection is (again) up and subscribed: everything is compared.
    public func connected() {
        eventSink.yield(.connected)
    }

    public var statuses: [ShadowSyncStatus] {
        shared.withLock { Array($0.statuses.values) }.sorted { ($0.thing, $0.name ?? "") < ($1.thing, $1.name ?? "") }
    }

    // MARK: The loop

    public func run() async throws {
        var records: [ShadowKey: ShadowSyncRecord] = [:]
        for record in try await store.loadSyncRecords() { records[record.key] = record }
        let changes = shadows.changes()
        let sink = eventSink
        await withDiscardingTaskGroup { group in
            group.addTask {
                for await change in changes.cancelOnGracefulShutdown() { sink.yield(.local(change)) }
            }
            group.addTask { await self.scheduleRetries() }
            var engine = Engine(sync: self, records: records)
            for await event in events.cancelOnGracefulShutdown() {
                await engine.handle(event)
            }
            group.cancelAll()
        }
    }

    /// Retries failed shadows with backoff (1 s doubling to a minute) until they succeed.
    private func scheduleRetries() async {
        var backoff = Duration.seconds(1)
        while !Task.isCancelled {
            await retrySignal.wait()
            guard !Task.isCancelled else { return }
            try? await Task.sleep(for: backoff)
            eventSink.yield(.retry)
            backoff = min(backoff * 2, .seconds(60))
            if !shared.withLock({ $0.statuses.values.contains { $0.state == .retrying } }) { backoff = .seconds(1) }
        }
    }

    fileprivate func setStatus(_ key: ShadowKey, _ update: (inout ShadowSyncStatus) -> Void) {
        shared.withLock { shared in
            guard var status = shared.statuses[key] else { return }
            update(&status)
            shared.statuses[key] = status
        }
    }

    fileprivate func replaceStatuses(_ targets: [Target], records: [ShadowKey: ShadowSyncRecord]) {
        shared.withLock { shared in
            var statuses: [ShadowKey: ShadowSyncStatus] = [:]
            for target in targets {
                let record = records[target.key]
                if var existing = shared.statuses[target.key] {
                    existing.direction = target.direction
                    statuses[target.key] = existing
                    continue
                }
                statuses[target.key] = ShadowSyncStatus(
                        thing: target.key.thing,
                        name: target.key.name,
                        direction: target.direction,
                        state: .pending,
                        localVersion: record?.localVersion,
                        cloudVersion: record?.cloudVersion,
                        syncedAt: record?.syncedAt,
                        lastError: nil
                    )
            }
            shared.statuses = statuses
        }
    }

    fileprivate func topicTarget(_ topic: String) -> (key: ShadowKey, deleted: Bool)? {
        shared.withLock { $0.topics[topic] }
    }

    // MARK: The engine (only the loop's task touches it)

    private struct Engine {
        let sync: ShadowSync
        var records: [ShadowKey: ShadowSyncRecord]
        var targets: [ShadowKey: ShadowSyncDirection] = [:]
        var failed: Set<ShadowKey> = []

        init(sync: ShadowSync, records: [ShadowKey: ShadowSyncRecord]) {
            self.sync = sync
            self.records = records
        }

        var logger: Logger { sync.logger }

        mutating func handle(_ event: Event) async {
            switch event {
            case .targets(let list):
                let old = targets
                targets = Dictionary(list.map { ($0.key, $0.direction) }, uniquingKeysWith: { first, _ in first })
                failed = failed.filter { targets[$0] != nil }
                sync.replaceStatuses(list, records: records)
                for target in list where old[target.key] != target.direction { await fullSync(target.key) }
            case .connected:
                for key in targets.keys.sorted() { await fullSync(key) }
            case .retry:
                for key in failed.sorted() { await fullSync(key) }
            case .local(let change):
                await localChange(change)
            case .cloud(let topic, let payload):
                await cloudChange(topic: topic, payload: payload)
            }
        }

        // MARK: Local → cloud

        private mutating func localChange(_ change: ShadowChange) async {
            guard let direction = targets[change.key] else { return }
            if change.clientToken == ShadowSync.clientToken { return }  // the sync's own write
            guard direction != .cloudToDevice else { return }
            // A shadow that failed is compared whole by the next retry or reconnect; one call per change would only
            // queue more calls to an unreachable cloud.
            if failed.contains(change.key) { return }
            guard var record = records[change.key] else {
                await fullSync(change.key)
                return
            }
            let local: SyncedState?
            switch change.kind {
            case .updated(let document):
                // Already part of what the last comparison read (it was committed before that read).
                if let known = record.localVersion, change.version <= known { return }
                local = SyncedState(desired: document.desired?.value, reported: document.reported?.value)
            case .deleted:
                // A delete carries the deleted shadow's version, which the sync may have read as live.
                if let known = record.localVersion, change.version < known { return }
                local = nil
            }
            do {
                if let local {
                    if let state = ShadowSyncMerge.patch(from: record.cloudVersion == nil ? nil : record.synced, to: local) {
                        let document = ShadowSyncMerge.updateDocument(
                            state: state,
                            version: record.cloudVersion,
                            clientToken: ShadowSync.clientToken
                        )
                        let accepted = try await sync.dataPlane.update(change.key, document: document)
                        record.cloudVersion = Self.version(of: accepted) ?? record.cloudVersion.map { $0 + 1 }
                    }
                } else if record.cloudVersion != nil {
                    try await sync.dataPlane.delete(change.key)
                    record.cloudVersion = nil
                }
                record.synced = local
                record.localVersion = change.version
                try await save(record)
            } catch is ShadowDataPlaneConflict {
                // The cloud changed since the sync last saw it: merge.
                await fullSync(change.key)
            } catch {
                fail(change.key, error)
            }
        }

        // MARK: Cloud → local

        private mutating func cloudChange(topic: String, payload: [UInt8]) async {
            guard let (key, deleted) = sync.topicTarget(topic), let direction = targets[key], direction != .deviceToCloud
            else { return }
            let version = Self.version(of: payload)
            if let record = records[key], !failed.contains(key) {
                if deleted {
                    // Already gone as far as the sync knows, or older than what it knows.
                    guard let known = record.cloudVersion, version.map({ $0 >= known }) ?? true else { return }
                } else if let known = record.cloudVersion, let version, version <= known {
                    return  // the echo of the sync's own update, or an old message
                }
            }
            await fullSync(key)
        }

        // MARK: Full comparison

        /// Reads both sides, merges against the last synced state, writes each side what it lacks.
        private mutating func fullSync(_ key: ShadowKey, attempt: Int = 1) async {
            guard let direction = targets[key] else { return }
            do {
                let cloudDocument = try await sync.dataPlane.get(key).map { bytes in
                    guard let parsed = SyncedState.fromDocument(bytes) else {
                        throw SyncFailure("the cloud's shadow document is not one AWS IoT returns")
                    }
                    return parsed
                }
                let localDocument = try await readLocal(key)
                let base = records[key]?.synced
                let merged = ShadowSyncMerge.merge(
                    base: base,
                    local: localDocument?.state,
                    cloud: cloudDocument?.state,
                    direction: direction
                )
                var localVersion = localDocument?.version
                var cloudVersion = cloudDocument?.version

                if merged != localDocument?.state {
                    localVersion = try await writeLocal(key, from: localDocument?.state, to: merged) ?? localVersion
                }
                if merged != cloudDocument?.state {
                    if let merged {
                        if let state = ShadowSyncMerge.patch(from: cloudDocument?.state, to: merged) {
                            let document = ShadowSyncMerge.updateDocument(
                                state: state,
                                version: cloudVersion,
                                clientToken: ShadowSync.clientToken
                            )
                            let accepted = try await sync.dataPlane.update(key, document: document)
                            cloudVersion = Self.version(of: accepted) ?? cloudVersion.map { $0 + 1 }
                        }
                    } else {
                        try await sync.dataPlane.delete(key)
                        cloudVersion = nil
                    }
                }
                let record = ShadowSyncRecord(
                    key: key,
                    synced: merged,
                    localVersion: localVersion,
                    cloudVersion: merged == nil ? nil : cloudVersion,
                    syncedAt: Date().timeIntervalSince1970
                )
                try await save(record)
                logger.debug("Shadow synced", metadata: ["shadow.key": "\(key)", "cloud.version": "\(cloudVersion ?? 0)"])
            } catch is ShadowDataPlaneConflict where attempt < 3 {
                await fullSync(key, attempt: attempt + 1)
            } catch {
                fail(key, error)
            }
        }

        private func readLocal(_ key: ShadowKey) async throws -> (state: SyncedState, version: Int64)? {
            switch await sync.shadows.get(key) {
            case .accepted(let reply, _, _, _):
                guard let parsed = SyncedState.fromDocument(reply) else {
                    throw SyncFailure("the local shadow document does not parse")
                }
                return parsed
            case .rejected(let error, _) where error.code == 404:
                return nil
            case .rejected(let error, _):
                throw SyncFailure("the local shadow service refused a get: \(error)")
            }
        }

        /// Makes the local shadow `target`; returns the new local version.
        private func writeLocal(_ key: ShadowKey, from current: SyncedState?, to target: SyncedState?) async throws -> Int64? {
            let token = JSONWriter.serialize(.object(JSONObject([("clientToken", .string(ShadowSync.clientToken))])))
            let outcome: ShadowOutcome
            if let target {
                guard let state = ShadowSyncMerge.patch(from: current, to: target) else { return nil }
                let document = ShadowSyncMerge.updateDocument(state: state, version: nil, clientToken: ShadowSync.clientToken)
                outcome = await sync.shadows.update(key, payload: document)
            } else {
                outcome = await sync.shadows.delete(key, payload: token)
            }
            switch outcome {
            case .accepted(let reply, _, _, _):
                return Self.version(of: reply)
            case .rejected(let error, _) where target == nil && error.code == 404:
                return nil
            case .rejected(let error, _):
                throw SyncFailure("the local shadow service refused the cloud's state: \(error)")
            }
        }

        private mutating func save(_ record: ShadowSyncRecord) async throws {
            try await sync.store.saveSyncRecord(record)
            records[record.key] = record
            failed.remove(record.key)
            sync.setStatus(record.key) { status in
                status.state = .synced
                status.localVersion = record.localVersion
                status.cloudVersion = record.cloudVersion
                status.syncedAt = record.syncedAt
                status.lastError = nil
            }
        }

        private mutating func fail(_ key: ShadowKey, _ error: any Error) {
            failed.insert(key)
            logger.warning("Shadow sync failed; retrying", metadata: ["shadow.key": "\(key)", "error": "\(error)"])
            sync.setStatus(key) { status in
                status.state = .retrying
                status.lastError = "\(error)"
            }
            sync.retrySignal.signal()
        }

        static func version(of document: [UInt8]) -> Int64? {
            guard case .object(let object)? = try? JSONParser.parse(document),
                case .number(let number)? = object["version"]
            else { return nil }
            return number.int64Value
        }
    }
}

/// A sync step that cannot go on; the shadow is retried.
struct SyncFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
