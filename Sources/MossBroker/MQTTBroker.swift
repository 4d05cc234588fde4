public import Logging
import MossMQTT
import NIOConcurrencyHelpers
public import NIOCore
import NIOPosix
import NIOSSL
public import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// The MQTT broker as a `Service`: binds its listeners in `run()` and serves until graceful shutdown.
public final class MQTTBroker: Service, Sendable, CustomStringConvertible {
    public let configuration: BrokerConfiguration
    private let logger: Logger
    private let persistence: (any BrokerPersistence)?
    private let group: any EventLoopGroup
    private let ownsGroup: Bool
    private let core: BrokerCore
    private let registry = ConnectionRegistry()
    private let bound: EventLoopPromise<[BoundListener]>
    private let boundValue = NIOLockedValueBox<[BoundListener]>([])
    private let started = NIOLockedValueBox(false)

    /// - Parameters:
    ///   - eventLoopGroup: where connections run; by default one event loop per CPU this process may use.
    public init(
        configuration: BrokerConfiguration,
        persistence: (any BrokerPersistence)? = nil,
        interceptor: any BrokerInterceptor = DefaultBrokerInterceptor(),
        logger: Logger,
        eventLoopGroup: (any EventLoopGroup)? = nil
    ) {
        self.configuration = configuration
        self.logger = logger
        self.persistence = persistence
        if let eventLoopGroup {
            self.group = eventLoopGroup
            self.ownsGroup = false
        } else {
            self.group = MultiThreadedEventLoopGroup(numberOfThreads: usableCPUCount())
            self.ownsGroup = true
        }
        let timerLoop = group.next()
        self.core = BrokerCore(limits: configuration.limits, interceptor: interceptor, timerLoop: timerLoop, logger: logger)
        self.bound = timerLoop.makePromise()
    }

    deinit {
        // A broker that was built but never run still owns its promise and, maybe, its threads
        // (run() settles and shuts down both itself).
        guard !started.withLockedValue({ $0 }) else { return }
        bound.fail(CancellationError())
        if ownsGroup { group.shutdownGracefully { _ in } }
    }

    public var description: String { "MQTTBroker" }

    public func run() async throws {
        started.withLockedValue { $0 = true }
        do {
            if let persistence {
                core.restore(try await persistence.loadBrokerState())
            }
            var servers: [any Channel] = []
            var listeners: [BoundListener] = []
            do {
                for listener in configuration.listeners {
                    let channel: any Channel
                    do {
                        channel = try await bind(listener)
                    } catch {
                        throw BrokerListenerError(listener: listener.name, host: listener.host, port: listener.port, underlying: error)
                    }
                    servers.append(channel)
                    let port = channel.localAddress?.port ?? listener.port
                    listeners.append(BoundListener(name: listener.name, host: listener.host, port: port, tls: listener.tls != nil))
                    logger.info(
                        "MQTT listener bound",
                        metadata: ["mqtt.listener": "\(listener.name)", "mqtt.host": "\(listener.host)", "mqtt.port": "\(port)"]
                    )
                }
            } catch {
                for server in servers { try? await server.close() }
                throw error
            }
            boundValue.withLockedValue { $0 = listeners }
            bound.succeed(listeners)

            await withTaskGroup(of: Void.self) { tasks in
                tasks.addTask { await self.writeBehind() }
                try? await gracefulShutdown()
                tasks.cancelAll()
            }
            await stop(servers: servers)
        } catch {
            bound.fail(error)
            await shutDownGroup()
            throw error
        }
        await shutDownGroup()
    }

    /// Waits until every listener is bound and returns them (with the real ports).
    public func boundListeners() async throws -> [BoundListener] {
        try await bound.futureResult.get()
    }

    /// Publishes a message from a non-MQTT endpoint (a function, the shadow service, the cloud).
    public func inject(_ message: BrokerMessage, from endpoint: String) {
        core.countReceived()
        let routed = Message(
            topic: message.topic,
            payload: message.payload,
            qos: message.qos,
            retain: message.retain,
            properties: Message.forwardedProperties(of: message.properties),
            expiryInterval: message.properties.messageExpiryInterval,
            publisherClientID: nil
        )
        core.route(routed, from: .endpoint(endpoint), publisher: nil)
    }

    /// A snapshot of listeners, clients and counters.
    public func statistics() -> BrokerStatistics {
        let counters = core.counters
        return BrokerStatistics(
            listeners: boundValue.withLockedValue { $0 },
            clients: registry.clients.sorted { $0.clientID < $1.clientID },
            sessions: core.sessionCount,
            retainedMessages: core.retainedCount,
            messagesReceived: counters.received,
            messagesSent: counters.sent,
            messagesDropped: counters.dropped
        )
    }

    // MARK: Listeners

    private func bind(_ listener: ListenerConfiguration) async throws -> any Channel {
        let sslContext = try listener.tls.map { try Self.makeSSLContext($0) }
        let context = ListenerContext(
            name: listener.name,
            isTLS: listener.tls != nil,
            thingsByFingerprint: listener.tls?.thingsByFingerprint ?? [:]
        )
        let limits = configuration.limits
        let core = self.core
        let registry = self.registry
        let logger = self.logger
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // TCP level: as a socket-level option, TCP_NODELAY (1) would be SO_DEBUG, which only root may set.
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            // NIO keeps each connection's receive buffer between reads at the size it last needed, 2 KiB at
            // first by default: the largest part of an idle client's memory. Start small; it doubles on every full read.
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 128, maximum: 65_536))
            .childChannelInitializer { channel in
                guard registry.reserveSocket(limit: limits.maximumConnections) else {
                    logger.warning("Connection limit reached; refusing connection",
                                   metadata: ["mqtt.max_connections": "\(limits.maximumConnections)"])
                    return channel.close()
                }
                return channel.eventLoop.makeCompletedFuture {
                    let handler = MQTTConnectionHandler(
                        core: core,
                        listener: context,
                        eventLoop: channel.eventLoop,
                        logger: logger,
                        registry: registry
                    )
                    let sync = channel.pipeline.syncOperations
                    if let sslContext {
                        try sync.addHandler(NIOSSLServerHandler(context: sslContext))
                    }
                    try sync.addHandler(handler)
                    registry.add(handler)
                }
            }
            .bind(host: listener.host, port: listener.port)
            .get()
    }

    private static func makeSSLContext(_ tls: MutualTLSConfiguration) throws -> NIOSSLContext {
        let chain = try NIOSSLCertificate.fromPEMFile(tls.certificateChainPath).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(file: tls.privateKeyPath, format: .pem)
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        configuration.trustRoots = .file(tls.trustedCAPath)
        configuration.certificateVerification = tls.requireClientCertificate ? .noHostnameVerification : .none
        return try NIOSSLContext(configuration: configuration)
    }

    // MARK: Persistence and shutdown

    private func writeBehind() async {
        guard persistence != nil else { return }
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: configuration.persistenceInterval)
            } catch {
                return
            }
            await flushChanges()
        }
    }

    private func flushChanges() async {
        guard let persistence else { return }
        let changes = core.takeChanges()
        guard !changes.isEmpty else { return }
        do {
            try await persistence.saveBrokerChanges(changes)
        } catch {
            logger.error("Could not save broker state", metadata: ["mqtt.error": "\(error)"])
        }
    }

    private func stop(servers: [any Channel]) async {
        for server in servers { try? await server.close() }
        let open = registry.handlers
        for handler in open { handler.shutDown() }
        // Give clients a moment to receive their DISCONNECT; then state is saved and loops stop.
        for _ in 0..<200 where registry.socketCount > 0 {
            try? await Task.sleep(for: .milliseconds(10))
        }
        await flushChanges()
        logger.info("MQTT broker stopped", metadata: ["mqtt.closed_connections": "\(open.count)"])
    }

    private func shutDownGroup() async {
        guard ownsGroup else { return }
        try? await group.shutdownGracefully()
    }
}

/// A listener could not be bound; names the listener and its address.
public struct BrokerListenerError: Error, CustomStringConvertible {
    public let listener: String
    public let host: String
    public let port: Int
    public let underlying: any Error

    public var description: String {
        "cannot listen for MQTT (\(listener)) on \(host):\(port): \(underlying)"
    }
}

/// CPUs this process may run on (its affinity mask, which `taskset` narrows and NIO's `System.coreCount` ignores),
/// read from the `Cpus_allowed` line of /proc/self/status.
func usableCPUCount() -> Int {
    #if canImport(Glibc)
    if let file = fopen("/proc/self/status", "r") {
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 512)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard text.hasPrefix("Cpus_allowed:") else { continue }
            let count = text.dropFirst("Cpus_allowed:".count).reduce(0) { total, character in
                total + (character.hexDigitValue?.nonzeroBitCount ?? 0)
            }
            if count > 0 { return min(count, System.coreCount) }
        }
    }
    #endif
    return System.coreCount
}
