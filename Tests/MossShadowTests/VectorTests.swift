import Foundation
import MossShadow
import MossTestSupport
import Synchronization
import Testing

/// The 48 conformance vectors of spec §12 (Fixtures/vectors.json, made by scripts/shadow/extract_vectors.py),
/// replayed in process: MQTT steps as `.mqtt` requests whose publications are collected, HTTP steps as `.api`
/// requests answered the way the admin API answers them. IntegrationTests/test_shadow_vectors.py replays the
/// same file over real MQTT.
@Suite struct VectorTests {
    static let vectors: [JSONObject] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/vectors.json")
        guard let data = FileManager.default.contents(atPath: url.path),
            case .array(let items) = try? JSONParser.parse(Array(data))
        else { return [] }
        return items.compactMap(\.objectValue)
    }()

    static var ids: [String] {
        vectors.compactMap { if case .string(let id)? = $0["id"] { id } else { nil } }
    }

    @Test func fixtureHasAll48Vectors() {
        #expect(Self.ids.count == 48)
    }

    @Test(arguments: ids)
    func vector(_ id: String) async throws {
        let vector = try #require(Self.vectors.first { $0["id"] == .string(id) })
        guard case .array(let steps)? = vector["steps"] else { Issue.record("\(id) has no steps"); return }
        let harness = ServiceHarness()
        defer { harness.stop() }
        var matcher = VectorMatcher()
        for (index, stepValue) in steps.enumerated() {
            let step = try #require(stepValue.objectValue)
            harness.advanceClock()
            let context = "\(id) step \(index + 1)"
            if step["kind"] == .string("publish") {
                try await runPublish(step, harness: harness, matcher: &matcher, context: context)
            } else {
                try await runHTTP(step, harness: harness, matcher: &matcher, context: context)
            }
        }
        await harness.finish()
    }

    private func runPublish(_ step: JSONObject, harness: ServiceHarness, matcher: inout VectorMatcher, context: String)
        async throws
    {
        guard case .string(let topic)? = step["topic"], let (key, operation) = ShadowTopic.request(topic) else {
            Issue.record("\(context): not a request topic")
            return
        }
        let payload: [UInt8] = if case .string(let text)? = step["payload"] { Array(text.utf8) } else { [] }
        _ = await harness.service.perform(operation, key, payload: payload, origin: .mqtt)
        let published = harness.takePublications()

        var expected: [String: JSONValue] = [:]
        if case .array(let items)? = step["expect"] {
            for item in items {
                guard case .string(let suffix)? = item.objectValue?["suffix"], let document = item.objectValue?["document"]
                else { continue }
                expected[suffix] = document
            }
        }
        var seen: Set<String> = []
        for publication in published {
            let suffix = String(publication.topic.dropFirst(key.topicPrefix.count + 1))
            guard let document = expected[suffix] else {
                Issue.record("\(context): unexpected publication on \(suffix): \(String(decoding: publication.payload, as: UTF8.self))")
                continue
            }
            #expect(seen.insert(suffix).inserted, "\(context): \(suffix) published twice")
            let actual = try JSONParser.parse(publication.payload)
            if let problem = matcher.mismatch(expected: document, actual: actual) {
                Issue.record("\(context) \(suffix): \(problem)\n  got \(String(decoding: publication.payload, as: UTF8.self))")
            }
        }
        for suffix in expected.keys where !seen.contains(suffix) {
            Issue.record("\(context): nothing published on \(suffix)")
        }
    }

    private func runHTTP(_ step: JSONObject, harness: ServiceHarness, matcher: inout VectorMatcher, context: String)
        async throws
    {
        guard case .string(let method)? = step["method"], case .string(let path)? = step["path"],
            case .number(let statusNumber)? = step["status"], let expectedStatus = statusNumber.int64Value,
            let expected = step["response"]
        else {
            Issue.record("\(context): malformed http step")
            return
        }
        let body: [UInt8] = if case .string(let text)? = step["body"] { Array(text.utf8) } else { [] }
        let (status, response) = try await RESTMapping.perform(method: method, path: path, body: body, service: harness.service)
        _ = harness.takePublications()
        #expect(status == expectedStatus, "\(context): HTTP status")
        if let problem = matcher.mismatch(expected: expected, actual: response) {
            Issue.record("\(context): \(problem)")
        }
    }
}

/// A service on an in-memory store with a clock the test moves, collecting what it publishes.
final class ServiceHarness: Sendable {
    /// The state the service's closures share with the test.
    private final class Shared: Sendable {
        let clock = Atomic<Int64>(1_760_000_000)
        let publications = Mutex<[ShadowPublication]>([])
    }

    let store = InMemoryShadowStore()
    let service: ShadowService
    private let shared = Shared()
    private let writer: Mutex<Task<Void, Never>?>

    init(limits: ShadowLimits = ShadowLimits(), rateLimits: ShadowRateLimits = ShadowRateLimits(), maximumBatch: Int = 512) {
        let shared = self.shared
        let service = ShadowService(
            store: store,
            limits: limits,
            rateLimits: rateLimits,
            maximumBatch: maximumBatch,
            clock: { shared.clock.load(ordering: .relaxed) },
            publisher: { batch in shared.publications.withLock { $0.append(contentsOf: batch) } }
        )
        self.service = service
        self.writer = Mutex(Task { await service.run() })
    }

    func advanceClock(by seconds: Int64 = 1) {
        shared.clock.add(seconds, ordering: .relaxed)
    }

    var now: Int64 { shared.clock.load(ordering: .relaxed) }

    func takePublications() -> [ShadowPublication] {
        shared.publications.withLock { taken in
            defer { taken = [] }
            return taken
        }
    }

    /// Stops the writer and waits for it.
    func finish() async {
        service.finish()
        await writer.withLock { $0 }?.value
    }

    /// For `defer`: stops the writer without waiting (a test that returned early).
    func stop() {
        service.finish()
    }
}

/// How the admin API maps AWS's REST paths onto the service (the same rules as MossCore's ShadowRoutes).
enum RESTMapping {
    static func perform(method: String, path: String, body: [UInt8], service: ShadowService) async throws -> (Int64, JSONValue) {
        let (route, query) = path.split(separator: "?", maxSplits: 1).map(String.init).splitFirst()
        let name = query?.split(separator: "&").first { $0.hasPrefix("name=") }.map { String($0.dropFirst(5)) }
        let parts = route.split(separator: "/").map(String.init)
        if parts.count == 5, parts[0] == "api", parts[3] == "ListNamedShadowsForThing" {
            let page = try await service.listNamedShadows(thing: parts[4])
            var object = JSONObject()
            object["results"] = .array(page.names.map(JSONValue.string))
            if let token = page.nextToken { object["nextToken"] = .string(token) }
            object["timestamp"] = .number(JSONNumber(service.now()))
            return (200, .object(object))
        }
        guard parts.count == 3, parts[0] == "things", parts[2] == "shadow" else { throw UnknownPath(path: path) }
        let key = ShadowKey(thing: parts[1], name: name)
        let outcome: ShadowOutcome
        switch method {
        case "GET": outcome = await service.get(key)
        case "POST": outcome = await service.update(key, payload: body)
        case "DELETE": outcome = await service.delete(key)
        default: throw UnknownPath(path: "\(method) \(path)")
        }
        switch outcome {
        case .accepted(let reply, _, _, _):
            return (200, try JSONParser.parse(reply))
        case .rejected(let error, _):
            return (Int64(error.code), .object(JSONObject([("message", .string(error.message))])))
        }
    }

    struct UnknownPath: Error {
        var path: String
    }
}

extension Array where Element == String {
    fileprivate func splitFirst() -> (String, String?) {
        (first ?? "", count > 1 ? self[1] : nil)
    }
}
