import Foundation
import Logging
import MossDeploy
import MossInference
import MossShadow

/// One running pipeline: reads its numbers, runs its chain, writes its result. An actor, because a chain's sessions
/// keep buffers between runs and must not be used by two runs at once.
actor PipelineInstance {
    typealias Publish = @Sendable (_ topic: String, _ payload: [UInt8]) -> Void

    let definition: GroupDefinition.Pipeline
    private let chain: PipelineChain
    private var sessions: [InferenceSession]
    private let shadows: ShadowService
    private let publish: Publish
    private let logger: Logger
    private var status: PipelineStatus
    /// The last error logged, so a pipeline failing the same way every run logs it once.
    private var loggedError: String?

    init(
        definition: GroupDefinition.Pipeline,
        chain: PipelineChain,
        shadows: ShadowService,
        publish: @escaping Publish,
        logger: Logger
    ) {
        self.definition = definition
        self.chain = chain
        self.sessions = chain.makeSessions()
        self.shadows = shadows
        self.publish = publish
        var logger = logger
        logger[metadataKey: "pipeline.id"] = "\(definition.id)"
        self.logger = logger
        self.status = PipelineStatus(
            id: definition.id,
            input: definition.input.shadow.map { "shadow:" + $0 } ?? "messages",
            output: definition.output.shadow.map { "shadow:" + $0 } ?? "topic:" + (definition.output.topic ?? ""),
            runs: 0,
            failures: 0,
            dropped: 0
        )
    }

    var currentStatus: PipelineStatus { status }

    func countDropped() { status.dropped += 1 }

    /// Runs once on the shadow's reported state (a pipeline with a shadow input, on its interval). False while that
    /// input does not exist yet.
    @discardableResult
    func runOnShadow() async -> Bool {
        guard let thing = definition.input.shadow else { return true }
        let outcome = await shadows.perform(.get, ShadowKey(thing: thing), payload: [], origin: .api)
        guard case .accepted(let reply, _, _, _) = outcome else {
            if case .rejected(let error, _) = outcome, error.code == 404 {
                fail("the shadow of \(thing) does not exist yet", waiting: true)
                return false
            }
            fail("reading the shadow of \(thing): \(String(decoding: outcome.reply, as: UTF8.self))")
            return true
        }
        let document = try? JSONSerialization.jsonObject(with: Data(reply)) as? [String: Any]
        let state = document?["state"] as? [String: Any]
        guard let reported = state?["reported"] as? [String: Any] else {
            fail("the shadow of \(thing) has no reported state yet", waiting: true)
            return false
        }
        await run(on: reported, source: "the reported state of \(thing)")
        return true
    }

    /// Runs once on a message routed to the pipeline: a JSON object holding the input fields.
    func runOnMessage(topic: String, payload: [UInt8]) async {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(payload))) as? [String: Any] else {
            return fail("the message on \(topic) is not a JSON object")
        }
        await run(on: object, source: "the message on \(topic)")
    }

    private func run(on object: [String: Any], source: String) async {
        var values: [Float] = []
        for field in definition.input.fields {
            guard let value = object[field] else { return fail("\(source) has no \(field)") }
            guard let number = Self.number(value) else {
                return fail("\(field) in \(source) is not a number: \(value)")
            }
            values.append(Float(number))
        }
        let scores: [Float]
        do {
            scores = try chain.run(values, in: &sessions)
        } catch {
            return fail(error.message)
        }
        let raw = scores.map(Double.init)
        let result = definition.threshold.map { threshold in [raw[0] >= threshold ? 1.0 : 0.0] } ?? raw
        await write(result: result, score: raw)
        status.runs += 1
        status.lastResult = result
        status.lastScore = raw
        status.lastRunAt = Date().timeIntervalSince1970
        status.lastError = nil
        if loggedError != nil {
            logger.notice("Pipeline runs again")
            loggedError = nil
        }
    }

    private func write(result: [Double], score: [Double]) async {
        let output = definition.output
        var fields: [String: Any] = [output.field: Self.json(result, integral: definition.threshold != nil)]
        if let scoreField = output.scoreField { fields[scoreField] = Self.json(score, integral: false) }
        if let thing = output.shadow {
            let update: [String: Any] = ["state": ["reported": fields]]
            let payload = Self.encode(update)
            let outcome = await shadows.perform(.update, ShadowKey(thing: thing), payload: payload, origin: .api)
            if case .rejected = outcome {
                fail("updating the shadow of \(thing): \(String(decoding: outcome.reply, as: UTF8.self))")
            }
        } else if let topic = output.topic {
            publish(topic, Self.encode(fields))
        }
    }

    /// Counts a run that produced nothing. `waiting`: its input does not exist yet (a sensor that has not reported
    /// since the group started), which is expected and logged quietly.
    private func fail(_ message: String, waiting: Bool = false) {
        status.failures += 1
        status.lastError = message
        guard loggedError != message else { return }
        loggedError = message
        logger.log(level: waiting ? .info : .warning, waiting ? "Pipeline waiting for its input" : "Pipeline run failed", metadata: ["error": "\(message)"])
    }

    /// JSON numbers only: JSONSerialization gives booleans as NSNumbers too (of ObjC type `c`), but they are not readings.
    private static func number(_ value: Any) -> Double? {
        guard let number = value as? NSNumber, String(cString: number.objCType) != "c" else { return nil }
        return number.doubleValue
    }

    /// One number as a JSON number (an integer for a thresholded class), several as an array.
    private static func json(_ values: [Double], integral: Bool) -> Any {
        let converted: [Any] = values.map { value -> Any in integral ? Int(value) : value }
        return converted.count == 1 ? converted[0] : converted
    }

    private static func encode(_ object: [String: Any]) -> [UInt8] {
        Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8))
    }
}
