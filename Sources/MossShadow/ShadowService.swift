import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a request came from, which decides what is published on MQTT (docs/shadows.md):
/// MQTT requests get every reply on their topics; API requests (admin API, function IPC) publish what changed
/// state (update accepted, delta, documents, delete accepted) and nothing for reads or refusals, as AWS's REST API.
public enum ShadowRequestOrigin: Sendable, Hashable {
    case mqtt
    case api
}

/// A message for the broker to publish.
public struct ShadowPublication: Sendable, Hashable {
    public var topic: String
    public var payload: [UInt8]

    public init(topic: String, payload: [UInt8]) {
        self.topic = topic
        self.payload = payload
    }
}

/// The local Device Shadow service: one writer applies requests in arrival order and commits them in groups,
/// so under load many updates share one transaction (and one fsync), yet no reply, publication or change event
/// leaves before the transaction that holds it has committed.
public final class ShadowService: Sendable {
    public typealias Publisher = @Sendable ([ShadowPublication]) -> Void
    public typealias Completion = @Sendable (ShadowOutcome) -> Void

    /// Requests one transaction holds at most; bounds the latency a large backlog adds to its first request.
    public static let defaultMaximumBatch = 512
    /// Requests waiting for the writer at most; beyond it requests are refused with 429, never dropped silently.
    public static let defaultMaximumPending = 20_000

    public let engine: ShadowEngine
    private let store: any ShadowStore
    private let publisher: Publisher
    private let clock: @Sendable () -> Int64
    /// Told about every request answered 500 (a store that failed, a stored document that does not parse), so the
    /// composition root can log what the 500 hides.
    private let reportFailure: @Sendable (ShadowKey, any Error) -> Void
    private let maximumBatch: Int
    private let maximumPending: Int
    private let started = ContinuousClock.now

    private struct Pending: Sendable {
        var key: ShadowKey
        var operation: ShadowOperation
        var payload: [UInt8]
        var origin: ShadowRequestOrigin
        var completion: Completion?
        /// Set for a reset, which runs alone, between the requests queued before and after it.
        var reset: (@Sendable (Result<Void, any Error>) -> Void)? = nil
    }

    private struct Queue: ~Copyable {
        var pending: [Pending] = []
        var accepting = true
        var limiter: ShadowRateLimiter
        var refusedRequests: UInt64 = 0
    }

    private let queue: Mutex<Queue>
    private let wakeups: AsyncStream<Void>
    private let wakeup: AsyncStream<Void>.Continuation
    private let subscribers = Mutex<[Int: AsyncStream<ShadowChange>.Continuation]>([:])
    private let nextSubscriber = Atomic<Int>(0)
    private let counters = Mutex(ShadowStatistics())

    public init(
        store: any ShadowStore,
        limits: ShadowLimits = ShadowLimits(),
        rateLimits: ShadowRateLimits = ShadowRateLimits(),
        maximumBatch: Int = ShadowService.defaultMaximumBatch,
        maximumPending: Int = ShadowService.defaultMaximumPending,
        clock: @escaping @Sendable () -> Int64 = ShadowService.wallClock,
        reportFailure: @escaping @Sendable (ShadowKey, any Error) -> Void = { _, _ in },
        publisher: @escaping Publisher
    ) {
        self.reportFailure = reportFailure
        self.engine = ShadowEngine(limits: limits)
        self.store = store
        self.publisher = publisher
        self.clock = clock
        self.maximumBatch = max(1, maximumBatch)
        self.maximumPending = max(1, maximumPending)
        self.queue = Mutex(Queue(limiter: ShadowRateLimiter(limits: rateLimits)))
        (self.wakeups, self.wakeup) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Seconds since the Unix epoch: the timestamps of shadow documents. `clock_gettime`, not `time()`: glibc's
    /// `time()` reads a coarse clock that lags by milliseconds, so an update just after a second boundary would be
    /// stamped with the previous second.
    public static let wallClock: @Sendable () -> Int64 = {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec)
    }

    // MARK: Requests

    /// Queues a request; `completion` runs (on the writer) once its outcome is final, after any commit.
    /// Requests are applied in the order they are submitted.
    public func submit(
        _ operation: ShadowOperation,
        _ key: ShadowKey,
        payload: [UInt8],
        origin: ShadowRequestOrigin,
        completion: Completion? = nil
    ) {
        let refusal: ShadowError? = queue.withLock { queue in
            guard queue.accepting else { return ShadowError(code: 503, message: "The shadow service is stopping") }
            guard queue.pending.count < maximumPending,
                !queue.limiter.limits.isEnabled || queue.limiter.admit(thing: key.thing, now: monotonicSeconds())
            else {
                queue.refusedRequests += 1
                return .tooManyRequests
            }
            queue.pending.append(
                Pending(key: key, operation: operation, payload: payload, origin: origin, completion: completion)
            )
            return nil
        }
        guard let refusal else {
            wakeup.yield()
            return
        }
        let token = ShadowEngine.lenientClientToken(payload, limit: engine.limits.maximumClientTokenBytes)
        let reply = engine.errorDocument(refusal, token: token, now: clock())
        if origin == .mqtt {
            publisher([ShadowPublication(topic: ShadowTopic.rejected(key, operation), payload: reply)])
        }
        completion?(.rejected(refusal, reply: reply))
    }

    public func get(_ key: ShadowKey, payload: [UInt8] = [], origin: ShadowRequestOrigin = .api) async -> ShadowOutcome {
        await perform(.get, key, payload: payload, origin: origin)
    }

    public func update(_ key: ShadowKey, payload: [UInt8], origin: ShadowRequestOrigin = .api) async -> ShadowOutcome {
        await perform(.update, key, payload: payload, origin: origin)
    }

    public func delete(_ key: ShadowKey, payload: [UInt8] = [], origin: ShadowRequestOrigin = .api) async -> ShadowOutcome {
        await perform(.delete, key, payload: payload, origin: origin)
    }

    public func perform(
        _ operation: ShadowOperation,
        _ key: ShadowKey,
        payload: [UInt8],
        origin: ShadowRequestOrigin
    ) async -> ShadowOutcome {
        await withCheckedContinuation { continuation in
            submit(operation, key, payload: payload, origin: origin) { continuation.resume(returning: $0) }
        }
    }

    /// Named shadows of `thing`, a page at a time (spec §2.4): `{"results":[…],"nextToken"?,"timestamp"}`.
    public func listNamedShadows(thing: String, pageSize: Int = 25, nextToken: String? = nil) async throws
        -> (names: [String], nextToken: String?)
    {
        let size = min(max(pageSize, 1), 100)
        let after = nextToken.map { ShadowKey(thing: thing, name: $0) } ?? ShadowKey(thing: thing)
        let page = try await store.listShadows(thing: thing, after: after, limit: size + 1)
        let names = page.compactMap(\.name)
        if names.count > size {
            return (Array(names.prefix(size)), names[size - 1])
        }
        return (names, nil)
    }

    /// Every existing shadow (or `thing`'s), classic first.
    public func listShadows(thing: String? = nil) async throws -> [ShadowSummary] {
        try await store.listShadows(thing: thing, after: nil, limit: Int.max)
    }

    public func now() -> Int64 { clock() }

    /// Deletes every shadow (V1's reset deployment), after the requests queued before it and before those queued
    /// after it. Publishes nothing and emits no change: the shadows are gone locally, not deleted by a device.
    public func reset() async throws {
        let result: Result<Void, any Error> = await withCheckedContinuation { continuation in
            let accepted = queue.withLock { queue in
                guard queue.accepting else { return false }
                queue.pending.append(
                    Pending(
                        key: ShadowKey(thing: ""),
                        operation: .delete,
                        payload: [],
                        origin: .api,
                        reset: { continuation.resume(returning: $0) }
                    )
                )
                return true
            }
            if accepted {
                wakeup.yield()
            } else {
                continuation.resume(returning: .failure(ShadowError(code: 503, message: "The shadow service is stopping")))
            }
        }
        try result.get()
    }

    // MARK: Changes

    /// Committed changes, in commit order, from now on. The stream buffers without bound: its consumer is
    /// internal (the cloud sync) and must keep up or fall back to a full comparison.
    public func changes() -> AsyncStream<ShadowChange> {
        let id = nextSubscriber.add(1, ordering: .relaxed).oldValue
        let (stream, continuation) = AsyncStream.makeStream(of: ShadowChange.self)
        continuation.onTermination = { [weak self] _ in
            _ = self?.subscribers.withLock { $0.removeValue(forKey: id) }
        }
        subscribers.withLock { $0[id] = continuation }
        return stream
    }

    public var statistics: ShadowStatistics {
        var snapshot = counters.withLock { $0 }
        snapshot.refusedRequests = queue.withLock { $0.refusedRequests }
        return snapshot
    }

    // MARK: The writer

    /// Applies requests until ``finish()`` is called and the queue is empty.
    public func run() async {
        var cache = ShadowCache(store: store)
        for await _ in wakeups {
            while let batch = takeBatch() {
                await apply(batch, cache: &cache)
            }
        }
        // Requests queued after the last wake-up but before finish().
        while let batch = takeBatch() {
            await apply(batch, cache: &cache)
        }
        for continuation in subscribers.withLock({ $0.values }) { continuation.finish() }
    }

    /// Stops accepting requests (they get 503); ``run()`` returns once those already queued are applied.
    public func finish() {
        queue.withLock { $0.accepting = false }
        wakeup.finish()
    }

    private func takeBatch() -> [Pending]? {
        queue.withLock { queue in
            guard let first = queue.pending.first else { return nil }
            // A reset is a batch of its own; a batch of requests ends before the next reset.
            let limit =
                first.reset != nil
                ? 1 : min(maximumBatch, queue.pending.firstIndex { $0.reset != nil } ?? queue.pending.count)
            if limit == queue.pending.count {
                defer { queue.pending.removeAll(keepingCapacity: true) }
                return queue.pending
            }
            let batch = Array(queue.pending.prefix(limit))
            queue.pending.removeFirst(limit)
            return batch
        }
    }

    private func apply(_ batch: [Pending], cache: inout ShadowCache) async {
        if let reset = batch.first?.reset {
            do {
                try await store.deleteAllShadows()
                cache = ShadowCache(store: store)
                reset(.success(()))
            } catch {
                reset(.failure(error))
            }
            return
        }
        let now = clock()
        var outcomes: [ShadowOutcome] = []
        outcomes.reserveCapacity(batch.count)
        var originals: [ShadowKey: StoredShadowState?] = [:]
        var written: [ShadowKey: StoredShadowState] = [:]
        var writeOrder: [ShadowKey] = []

        for request in batch {
            let current: StoredShadowState?
            do {
                current = try await cache.state(of: request.key)
            } catch {
                outcomes.append(failure(error, request: request, now: now))
                continue
            }
            let outcome: ShadowOutcome
            switch request.operation {
            case .get: outcome = engine.get(request.key, current: current, payload: request.payload, now: now)
            case .update: outcome = engine.update(request.key, current: current, payload: request.payload, now: now)
            case .delete: outcome = engine.delete(request.key, current: current, payload: request.payload, now: now)
            }
            if case .accepted(_, _, let newState?, _) = outcome {
                if originals[request.key] == nil { originals[request.key] = .some(current) }
                if written.updateValue(newState, forKey: request.key) == nil { writeOrder.append(request.key) }
                cache.set(request.key, newState)
            }
            outcomes.append(outcome)
        }

        if !writeOrder.isEmpty {
            let records = writeOrder.map { key in Self.record(key, written[key]!, now: now) }
            do {
                try await store.commitShadows(records)
            } catch {
                // Nothing of this batch is on disk: forget it, and answer every request (reads included,
                // they may have seen the uncommitted state) with an internal failure.
                for (key, original) in originals { cache.restore(key, original) }
                let failed = batch.map { failure(error, request: $0, now: now) }
                deliver(batch, failed, now: now)
                counters.withLock { $0.failedCommits += 1 }
                return
            }
        }
        deliver(batch, outcomes, now: now)
        counters.withLock {
            $0.commits += writeOrder.isEmpty ? 0 : 1
            $0.requests += UInt64(batch.count)
        }
    }

    private func failure(_ error: any Error, request: Pending, now: Int64) -> ShadowOutcome {
        reportFailure(request.key, error)
        let token = ShadowEngine.lenientClientToken(request.payload, limit: engine.limits.maximumClientTokenBytes)
        return .rejected(.internalFailure, reply: engine.errorDocument(.internalFailure, token: token, now: now))
    }

    /// Publishes, completes and announces a committed batch, in request order.
    private func deliver(_ batch: [Pending], _ outcomes: [ShadowOutcome], now: Int64) {
        var publications: [ShadowPublication] = []
        var changes: [ShadowChange] = []
        for (request, outcome) in zip(batch, outcomes) {
            let key = request.key
            switch outcome {
            case .accepted(let reply, let notifications, let newState, let token):
                if request.origin == .mqtt || request.operation != .get {
                    publications.append(ShadowPublication(topic: ShadowTopic.accepted(key, request.operation), payload: reply))
                }
                for notification in notifications {
                    switch notification {
                    case .delta(let payload): publications.append(ShadowPublication(topic: ShadowTopic.delta(key), payload: payload))
                    case .documents(let payload):
                        publications.append(ShadowPublication(topic: ShadowTopic.documents(key), payload: payload))
                    }
                }
                switch newState {
                case .live(let document, _)?:
                    changes.append(ShadowChange(key: key, version: document.version, timestamp: now, kind: .updated(document), clientToken: token))
                case .deleted(let version, _)?:
                    changes.append(ShadowChange(key: key, version: version, timestamp: now, kind: .deleted, clientToken: token))
                case nil:
                    break
                }
            case .rejected(_, let reply):
                if request.origin == .mqtt {
                    publications.append(ShadowPublication(topic: ShadowTopic.rejected(key, request.operation), payload: reply))
                }
            }
        }
        if !publications.isEmpty { publisher(publications) }
        for (request, outcome) in zip(batch, outcomes) { request.completion?(outcome) }
        if !changes.isEmpty {
            for continuation in subscribers.withLock({ Array($0.values) }) {
                for change in changes { continuation.yield(change) }
            }
        }
    }

    static func record(_ key: ShadowKey, _ state: StoredShadowState, now: Int64) -> StoredShadowRecord {
        switch state {
        case .live(let document, let serialized):
            StoredShadowRecord(
                key: key,
                version: document.version,
                state: serialized.state,
                metadata: serialized.metadata,
                deletedAt: nil,
                updatedAt: now
            )
        case .deleted(let version, let deletedAt):
            StoredShadowRecord(key: key, version: version, state: nil, metadata: nil, deletedAt: deletedAt, updatedAt: now)
        }
    }

    private func monotonicSeconds() -> Double {
        let elapsed = ContinuousClock.now - started
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}

/// Counters for `moss status` and the benchmark.
public struct ShadowStatistics: Sendable, Hashable, Codable {
    /// Requests applied (accepted or rejected by the rules).
    public var requests: UInt64 = 0
    /// Transactions committed; requests / commits is the group-commit factor.
    public var commits: UInt64 = 0
    /// Transactions that failed (every request in them answered 500).
    public var failedCommits: UInt64 = 0
    /// Requests refused before queueing (rate limits, full queue).
    public var refusedRequests: UInt64 = 0

    public init() {}
}
