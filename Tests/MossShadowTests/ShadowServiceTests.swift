import MossShadow
import MossTestSupport
import Synchronization
import Testing

/// The service around the rules: ordering, group commit, failed commits, limits, the change stream.
@Suite struct ShadowServiceTests {
    private func text(_ outcome: ShadowOutcome) -> String { String(decoding: outcome.reply, as: UTF8.self) }

    private func version(_ outcome: ShadowOutcome) throws -> Int64? {
        guard case .object(let object) = try JSONParser.parse(outcome.reply), case .number(let number)? = object["version"]
        else { return nil }
        return number.int64Value
    }

    @Test func badRequestsGetTheirAWSErrorAndChangeNothing() async throws {
        let harness = ServiceHarness()
        let key = ShadowKey(thing: "lamp")
        _ = await harness.service.update(key, payload: Array(#"{"state":{"desired":{"on":true}}}"#.utf8))
        let before = await harness.service.get(key)
        let cases: [(String, Int, String)] = [
            (#"{"state":"#, 400, "Invalid JSON"),
            (#"[1]"#, 400, "Invalid JSON"),
            (#"{"desired":{}}"#, 400, "Missing required node: state"),
            (#"{"state":true}"#, 400, "State node must be an object"),
            (#"{"state":{"desired":[1]}}"#, 400, "Desired node must be an object"),
            (#"{"state":{"reported":"x"}}"#, 400, "Reported node must be an object"),
            (#"{"state":{"delta":{"a":1}}}"#, 400, "State contains an invalid node: 'delta'"),
            (#"{"state":{},"version":1.5}"#, 400, "Invalid version"),
            (#"{"state":{},"version":true}"#, 400, "Invalid version"),
            (#"{"state":{},"version":-1}"#, 400, "Invalid version"),
            (#"{"state":{},"clientToken":7}"#, 400, "Invalid clientToken"),
            (#"{"state":{"desired":{"a":[1,null]}}}"#, 400, "Invalid JSON: null is not allowed in an array"),
            (#"{"state":{"desired":{"a":[{"b":null}]}}}"#, 400, "Invalid JSON: null is not allowed in an array"),
            (#"{"state":{"desired":{"a":{"b":{"c":{"d":{"e":{"f":{"g":1}}}}}}}}}"#, 400, "JSON contains too many levels of nesting; maximum is 6"),
            (#"{"state":{"desired":{"on":false}},"version":7}"#, 409, "Version conflict"),
            (#"{"state":{"desired":{"blob":"\#(String(repeating: "x", count: 8200))"}}}"#, 413, "The payload exceeds the maximum size allowed"),
        ]
        for (payload, code, message) in cases {
            let outcome = await harness.service.update(key, payload: Array(payload.utf8))
            guard case .rejected(let error, _) = outcome else {
                Issue.record("\(payload) was accepted: \(text(outcome))")
                continue
            }
            #expect(error == ShadowError(code: code, message: message), "\(payload)")
        }
        let notUTF8 = await harness.service.update(key, payload: [0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D])
        #expect(notUTF8 == .rejected(.unsupportedEncoding, reply: notUTF8.reply))
        let after = await harness.service.get(key)
        #expect(try version(after) == 1)
        #expect(text(after) == text(before))
        await harness.finish()
    }

    @Test func namesOutsideTheLimitsAreRefusedNamingTheRule() async throws {
        let harness = ServiceHarness()
        let state = Array(#"{"state":{}}"#.utf8)
        let cases: [(ShadowKey, String)] = [
            (ShadowKey(thing: String(repeating: "t", count: 129)), "Thing name has a maximum length of 128"),
            (ShadowKey(thing: "a.b"), "Thing name must match the pattern [a-zA-Z0-9:_-]+"),
            (ShadowKey(thing: "t", name: String(repeating: "n", count: 65)), "Shadow name has a maximum length of 64"),
            (ShadowKey(thing: "t", name: "$reserved"), "Shadow name must match the pattern [a-zA-Z0-9:_-]+"),
        ]
        for (key, message) in cases {
            #expect(await harness.service.update(key, payload: state) == .rejected(.invalidName(message), reply: harness.service.engine.errorDocument(.invalidName(message), token: nil, now: harness.now)))
        }
        #expect(try await harness.service.listShadows().isEmpty)
        await harness.finish()
    }

    @Test func documentedChoicesForUnverifiedPoints() async throws {
        let harness = ServiceHarness()
        let key = ShadowKey(thing: "t")
        func update(_ json: String) async -> ShadowOutcome { await harness.service.update(key, payload: Array(json.utf8)) }
        func state() async throws -> String {
            guard case .object(let document) = try JSONParser.parse(await harness.service.get(key).reply),
                let state = document["state"]
            else { return "" }
            return String(decoding: JSONWriter.serialize(state), as: UTF8.self)
        }
        // A version on a shadow that does not exist is a conflict.
        #expect(await update(#"{"state":{},"version":0}"#) == .rejected(.versionConflict, reply: Array(#"{"code":409,"message":"Version conflict"}"#.utf8)))
        _ = await update(#"{"state":{"desired":{"a":{"b":1},"n":1},"reported":{"n":1.0}}}"#)
        // 1 and 1.0 are one value: no delta for n.
        #expect(try await state() == #"{"desired":{"a":{"b":1},"n":1},"reported":{"n":1.0},"delta":{"a":{"b":1}}}"#)
        // {} as a section or as a value changes nothing; an object emptied by nulls is removed.
        _ = await update(#"{"state":{"desired":{}}}"#)
        _ = await update(#"{"state":{"desired":{"x":{}}}}"#)
        _ = await update(#"{"state":{"desired":{"a":{"b":null}}}}"#)
        #expect(try await state() == #"{"desired":{"n":1},"reported":{"n":1.0}}"#)
        // The last of duplicate keys wins.
        _ = await update(#"{"state":{"reported":{"d":1,"d":2}}}"#)
        #expect(try await state() == #"{"desired":{"n":1},"reported":{"n":1.0,"d":2}}"#)
        await harness.finish()
    }

    @Test func recreatingContinuesTheVersionsUntilTheTombstoneExpires() async throws {
        let harness = ServiceHarness(limits: ShadowLimits(tombstoneLifetimeSeconds: 100))
        let key = ShadowKey(thing: "t", name: "n")
        let update = Array(#"{"state":{"reported":{"a":1}}}"#.utf8)
        _ = await harness.service.update(key, payload: update)
        _ = await harness.service.update(key, payload: update)
        #expect(try version(await harness.service.delete(key)) == 2)
        #expect(try version(await harness.service.update(key, payload: update)) == 4)
        _ = await harness.service.delete(key)
        harness.advanceClock(by: 100)
        #expect(try version(await harness.service.update(key, payload: update)) == 1)
        await harness.finish()
    }

    @Test func requestsQueuedDuringACommitShareTheNextTransaction() async throws {
        let store = GatedStore()
        let service = ShadowService(store: store, publisher: { _ in })
        let writer = Task { await service.run() }
        let first = Task { await service.update(ShadowKey(thing: "t0"), payload: Array(#"{"state":{"reported":{"i":0}}}"#.utf8)) }
        await store.waitUntilCommitting()
        let collected = Mutex<[ShadowOutcome]>([])
        let done = AsyncStream.makeStream(of: Void.self)
        for index in 1...99 {
            service.submit(.update, ShadowKey(thing: "t\(index % 10)"), payload: Array(#"{"state":{"reported":{"i":\#(index)}}}"#.utf8), origin: .api) { outcome in
                if collected.withLock({ $0.append(outcome); return $0.count }) == 99 { done.continuation.finish() }
            }
        }
        store.open()
        _ = await first.value
        for await _ in done.stream {}
        #expect(collected.withLock { $0.allSatisfy { if case .accepted = $0 { true } else { false } } })
        // Two transactions: the first request's, then all 99 (coalesced to one row per thing).
        #expect(store.commitSizes == [1, 10])
        #expect(service.statistics.commits == 2)
        // Ten updates per thing, applied in submission order: t1 ends at version 10 with i = 91.
        let t1 = String(decoding: await service.get(ShadowKey(thing: "t1")).reply, as: UTF8.self)
        #expect(t1.contains(#""reported":{"i":91}"#) && t1.contains(#""version":10"#))
        service.finish()
        await writer.value
    }

    @Test func aFailedCommitAnswersEveryRequestInItAndKeepsNothing() async throws {
        let harness = ServiceHarness()
        let key = ShadowKey(thing: "t")
        _ = await harness.service.update(key, payload: Array(#"{"state":{"reported":{"a":1}}}"#.utf8))
        harness.store.failCommits(true)
        let failed = await harness.service.update(key, payload: Array(#"{"state":{"reported":{"a":2}},"clientToken":"c"}"#.utf8))
        #expect(failed == .rejected(.internalFailure, reply: Array(#"{"code":500,"message":"Internal service failure","timestamp":\#(harness.now),"clientToken":"c"}"#.utf8)))
        harness.store.failCommits(false)
        let next = await harness.service.update(key, payload: Array(#"{"state":{"reported":{"b":1}}}"#.utf8))
        #expect(try version(next) == 2)
        let document = String(decoding: await harness.service.get(key).reply, as: UTF8.self)
        #expect(document.hasPrefix(#"{"state":{"reported":{"a":1,"b":1}}"#))
        await harness.finish()
    }

    @Test func rateLimitsAnswer429AndCountTheRefusal() async throws {
        // One request per 1000 s: the second is refused however slow the machine is.
        let harness = ServiceHarness(rateLimits: ShadowRateLimits(perThingPerSecond: 0.001))
        let payload = Array(#"{"state":{"reported":{"a":1}},"clientToken":"r"}"#.utf8)
        #expect(try version(await harness.service.update(ShadowKey(thing: "a"), payload: payload)) == 1)
        let refused = await harness.service.update(ShadowKey(thing: "a"), payload: payload, origin: .mqtt)
        #expect(refused == .rejected(.tooManyRequests, reply: Array(#"{"code":429,"message":"Too Many Requests","timestamp":\#(harness.now),"clientToken":"r"}"#.utf8)))
        #expect(harness.takePublications().last?.topic == "$aws/things/a/shadow/update/rejected")
        // Another thing has its own bucket.
        #expect(try version(await harness.service.update(ShadowKey(thing: "b"), payload: payload)) == 1)
        #expect(harness.service.statistics.refusedRequests == 1)
        await harness.finish()
    }

    @Test func theChangeStreamCarriesCommittedChangesInOrder() async throws {
        let harness = ServiceHarness()
        let changes = harness.service.changes()
        let key = ShadowKey(thing: "t")
        _ = await harness.service.update(key, payload: Array(#"{"state":{"desired":{"a":1}},"clientToken":"one"}"#.utf8))
        _ = await harness.service.update(key, payload: Array(#"{"state":{"desired":{"a":1}},"version":9}"#.utf8))
        _ = await harness.service.delete(key)
        var received: [ShadowChange] = []
        for await change in changes {
            received.append(change)
            if received.count == 2 { break }
        }
        #expect(received.map(\.version) == [1, 1])
        #expect(received.first?.clientToken == "one")
        #expect(received.last?.kind == .deleted)
        await harness.finish()
    }

    @Test func resetDeletesEveryShadowBetweenTheRequestsAroundIt() async throws {
        let harness = ServiceHarness()
        let payload = Array(#"{"state":{"reported":{"a":1}}}"#.utf8)
        _ = await harness.service.update(ShadowKey(thing: "a"), payload: payload)
        _ = await harness.service.update(ShadowKey(thing: "b", name: "n"), payload: payload)
        try await harness.service.reset()
        #expect(try await harness.service.listShadows().isEmpty)
        #expect(await harness.service.get(ShadowKey(thing: "a")).reply == Array(#"{"code":404,"message":"No shadow exists with name: 'a'"}"#.utf8))
        // No tombstone survives a reset: a new shadow starts at 1.
        #expect(try version(await harness.service.update(ShadowKey(thing: "a"), payload: payload)) == 1)
        await harness.finish()
    }

    @Test func storedDocumentsRoundTrip() throws {
        let engine = ShadowEngine()
        let outcome = engine.update(
            ShadowKey(thing: "t"),
            current: nil,
            payload: Array(#"{"state":{"desired":{"a":[1,{"b":"x"},[true]],"o":{"p":1.50}},"reported":{"z":"é"}}}"#.utf8),
            now: 42
        )
        guard case .accepted(_, _, .live(let document, let serialized)?, _) = outcome else {
            Issue.record("not accepted")
            return
        }
        let restored = ShadowDocument.deserialize(state: serialized.state, metadata: serialized.metadata, version: document.version)
        #expect(restored == document)
        #expect(ShadowDocument.deserialize(state: serialized.state, metadata: Array("{}".utf8), version: 1) == nil)
    }
}

/// A store whose commits wait at a gate, so a test can queue requests while a transaction is in progress.
final class GatedStore: ShadowStore {
    private let inner = InMemoryShadowStore()
    private let gate = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>], committing: [CheckedContinuation<Void, Never>], started: Bool)>((false, [], [], false))
    private let sizes = Mutex<[Int]>([])

    var commitSizes: [Int] { sizes.withLock { $0 } }

    func waitUntilCommitting() async {
        await withCheckedContinuation { continuation in
            let ready = gate.withLock { state in
                if state.started { return true }
                state.committing.append(continuation)
                return false
            }
            if ready { continuation.resume() }
        }
    }

    func open() {
        let waiters = gate.withLock { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func loadShadow(_ key: ShadowKey) async throws -> StoredShadowRecord? { try await inner.loadShadow(key) }

    func commitShadows(_ records: [StoredShadowRecord]) async throws {
        await withCheckedContinuation { continuation in
            let (proceed, announce) = gate.withLock { state in
                state.started = true
                defer { state.committing = [] }
                if !state.open { state.waiters.append(continuation) }
                return (state.open, state.committing)
            }
            for waiting in announce { waiting.resume() }
            if proceed { continuation.resume() }
        }
        sizes.withLock { $0.append(records.count) }
        try await inner.commitShadows(records)
    }

    func listShadows(thing: String?, after: ShadowKey?, limit: Int) async throws -> [ShadowSummary] {
        try await inner.listShadows(thing: thing, after: after, limit: limit)
    }

    func deleteAllShadows() async throws { try await inner.deleteAllShadows() }
}
