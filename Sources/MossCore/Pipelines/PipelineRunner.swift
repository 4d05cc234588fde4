import Logging
import MossBroker
import MossDeploy
import MossRouting
import MossShadow
import NIOCore
import ServiceLifecycle
import Synchronization

/// Runs the deployed group's pipelines: one task each, polling its shadow on its interval or taking the messages
/// routed to it in order. A deployment replaces them all at once; graceful shutdown stops them before the shadow
/// service and the broker stop.
final class PipelineRunner: Service, Sendable {
    typealias Publish = @Sendable (_ source: RouteEndpoint, _ topic: String, _ payload: [UInt8]) -> Void

    struct Prepared: Sendable {
        let definition: GroupDefinition.Pipeline
        let chain: PipelineChain
    }

    private struct Running: Sendable {
        let instance: PipelineInstance
        let task: Task<Void, Never>
        let messages: AsyncStream<(topic: String, payload: [UInt8])>.Continuation?
    }

    /// Messages waiting for a busy pipeline; beyond this the oldest are dropped (and counted).
    static let queuedMessages = 64

    private let shadows: ShadowService
    private let logger: Logger
    private let running = Mutex<[String: Running]>([:])
    private let publisher = Mutex<Publish?>(nil)

    init(shadows: ShadowService, logger: Logger) {
        self.shadows = shadows
        self.logger = logger
    }

    /// How pipelines publish on topics, once the broker exists (it is built after the deployed group is restored).
    func attach(publish: @escaping Publish) {
        publisher.withLock { $0 = publish }
    }

    /// Stops the pipelines running and starts `pipelines`.
    func install(_ pipelines: [Prepared]) {
        let old = running.withLock { running in
            let old = running
            running = [:]
            for pipeline in pipelines { running[pipeline.definition.id] = start(pipeline) }
            return old
        }
        for pipeline in old.values { Self.stop(pipeline) }
        if !pipelines.isEmpty {
            logger.info("Pipelines running", metadata: ["pipelines": "\(pipelines.map(\.definition.id).joined(separator: ", "))"])
        }
    }

    /// A message the router sends to a pipeline.
    func deliver(_ message: BrokerMessage, to target: RouteEndpoint) {
        guard case .pipeline(let id) = target, let pipeline = running.withLock({ $0[id] }),
            let messages = pipeline.messages
        else { return }
        if case .dropped = messages.yield((message.topic, Array(message.payload.readableBytesView))) {
            Task { await pipeline.instance.countDropped() }
        }
    }

    func statuses() async -> [PipelineStatus] {
        var statuses: [PipelineStatus] = []
        for pipeline in running.withLock({ Array($0.values) }) { statuses.append(await pipeline.instance.currentStatus) }
        return statuses.sorted { $0.id < $1.id }
    }

    func run() async throws {
        try? await gracefulShutdown()
        let old = running.withLock { running in
            defer { running = [:] }
            return running
        }
        for pipeline in old.values {
            Self.stop(pipeline)
            await pipeline.task.value
        }
    }

    private func start(_ pipeline: Prepared) -> Running {
        let definition = pipeline.definition
        let source = RouteEndpoint.pipeline(definition.id)
        let instance = PipelineInstance(
            definition: definition,
            chain: pipeline.chain,
            shadows: shadows,
            publish: { [weak self] topic, payload in self?.publisher.withLock { $0 }?(source, topic, payload) },
            logger: logger
        )
        if definition.input.shadow != nil {
            let interval = Duration.milliseconds(Int64(((definition.every ?? GroupDefinition.Pipeline.defaultInterval) * 1000).rounded()))
            // While the shadow has no input yet (a group just deployed), look again within a second rather than a
            // whole interval later.
            let waitingInterval = min(interval, .seconds(1))
            let task = Task {
                while !Task.isCancelled {
                    let ran = await instance.runOnShadow()
                    try? await Task.sleep(for: ran ? interval : waitingInterval)
                }
            }
            return Running(instance: instance, task: task, messages: nil)
        }
        let (stream, continuation) = AsyncStream<(topic: String, payload: [UInt8])>.makeStream(
            bufferingPolicy: .bufferingNewest(Self.queuedMessages)
        )
        let task = Task {
            for await message in stream { await instance.runOnMessage(topic: message.topic, payload: message.payload) }
        }
        return Running(instance: instance, task: task, messages: continuation)
    }

    private static func stop(_ pipeline: Running) {
        pipeline.messages?.finish()
        pipeline.task.cancel()
    }
}
