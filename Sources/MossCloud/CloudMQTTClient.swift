#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
public import Logging
import MossMQTT
import NIOCore
import NIOPosix
public import NIOSSL
public import ServiceLifecycle
import Synchronization

/// The connection to AWS IoT Core: MQTT 3.1.1 over mutual TLS with a persistent session (clean session off).
///
/// It publishes what the spooler hands it at QoS 1, several messages in flight, and removes each from the spool on
/// its PUBACK; it subscribes to the filters its owners ask for (cloud routes, shadow sync) at QoS 1 and hands what
/// arrives to `onMessage`. A lost connection is retried with exponential backoff and jitter; on every connection the
/// subscriptions are made again and every unacknowledged message is sent again, then `onConnected` runs.
public final class CloudMQTTClient: Service, Sendable, CustomStringConvertible {
    public typealias MessageHandler = @Sendable (_ topic: String, _ payload: [UInt8]) -> Void

    /// AWS IoT accepts at most 8 filters per SUBSCRIBE.
    static let filtersPerSubscribe = 8

    private let configuration: CloudConnectionConfiguration
    private let tlsContext: NIOSSLContext
    private let clientID: @Sendable () async -> String?
    private let spooler: CloudSpooler
    private let logger: Logger
    private let onMessage: MessageHandler
    private let onConnected: @Sendable () -> Void

    private struct Shared {
        var filtersByOwner: [String: Set<String>] = [:]
        var status: CloudConnectionStatus
    }

    private let shared: Mutex<Shared>
    /// Wakes the running session when the wanted subscriptions change, and the loop when a client id may be known.
    private let subscriptionsChanged = AsyncSignal()
    private let clientIDChanged = AsyncSignal()

    public var description: String { "CloudMQTTClient" }

    public init(
        configuration: CloudConnectionConfiguration,
        tlsContext: NIOSSLContext,
        clientID: @escaping @Sendable () async -> String?,
        spooler: CloudSpooler,
        logger: Logger,
        onMessage: @escaping MessageHandler,
        onConnected: @escaping @Sendable () -> Void = {}
    ) {
        self.configuration = configuration
        self.tlsContext = tlsContext
        self.clientID = clientID
        self.spooler = spooler
        self.logger = logger
        self.onMessage = onMessage
        self.onConnected = onConnected
        self.shared = Mutex(
            Shared(
                status: CloudConnectionStatus(
                    state: .connecting,
                    endpoint: "\(configuration.host):\(configuration.port)",
                    clientID: nil,
                    since: Date().timeIntervalSince1970,
                    connections: 0,
                    lastError: nil,
                    subscriptions: 0
                )
            )
        )
    }

    /// Replaces the filters `owner` wants subscribed at the cloud; the union of all owners' is subscribed.
    public func setSubscriptions(_ filters: Set<String>, owner: String) {
        shared.withLock { $0.filtersByOwner[owner] = filters }
        subscriptionsChanged.signal()
    }

    /// The client id may have changed (a group was deployed): a client waiting for one tries again.
    public func clientIDMayHaveChanged() {
        clientIDChanged.signal()
    }

    public var status: CloudConnectionStatus { shared.withLock { $0.status } }

    private var wantedFilters: Set<String> {
        shared.withLock { $0.filtersByOwner.values.reduce(into: Set<String>()) { $0.formUnion($1) } }
    }

    private func setState(_ state: CloudConnectionStatus.State, clientID: String? = nil, error: (any Error)? = nil) {
        shared.withLock { shared in
            if shared.status.state != state { shared.status.since = Date().timeIntervalSince1970 }
            shared.status.state = state
            if let clientID { shared.status.clientID = clientID }
            if let error { shared.status.lastError = "\(error)" }
            if state == .connected { shared.status.connections += 1 }
        }
    }

    // MARK: The connection loop

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var backoff = self.configuration.minimumBackoff
            while !Task.isCancelled {
                guard let clientID = await self.clientID() else {
                    self.setState(.waitingForClientID)
                    await self.clientIDChanged.wait()
                    continue
                }
                self.setState(.connecting, clientID: clientID)
                var logger = self.logger
                logger[metadataKey: "mqtt.client_id"] = "\(clientID)"
                do {
                    let connected = try await self.session(clientID: clientID, logger: logger)
                    if connected { backoff = self.configuration.minimumBackoff }
                } catch {
                    if Task.isCancelled { break }
                    let wasConnected = self.status.state == .connected
                    self.setState(.disconnected, error: error)
                    if wasConnected { backoff = self.configuration.minimumBackoff }
                    logger.warning(
                        wasConnected ? "Lost the cloud connection; reconnecting" : "Could not connect to the cloud; retrying",
                        metadata: ["cloud.endpoint": "\(self.configuration.host):\(self.configuration.port)", "error": "\(error)"]
                    )
                }
                // Up to 50 % jitter, so gateways that lost the cloud together do not come back together.
                let jittered = backoff * Double.random(in: 0.5...1.0)
                try? await Task.sleep(for: jittered)
                backoff = min(backoff * 2, self.configuration.maximumBackoff)
            }
        }
    }

    /// One connection, until it fails (throws) or the task is cancelled. Returns whether CONNACK came.
    private func session(clientID: String, logger: Logger) async throws -> Bool {
        let tlsContext = self.tlsContext
        let host = configuration.host
        // SNI and hostname checks use the name; for an IP address NIOSSL checks the certificate's IP SANs instead.
        let serverHostname = Self.isIPAddress(host) ? nil : host
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.init(configuration.connectTimeout))
            .connect(host: host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(try NIOSSLClientHandler(context: tlsContext, serverHostname: serverHostname))
                    try sync.addHandler(ByteToMessageHandler(MQTTPacketDecoder(protocolVersion: .v3_1_1)))
                    try sync.addHandler(MessageToByteHandler(MQTTPacketEncoder(protocolVersion: .v3_1_1)))
                    return try NIOAsyncChannel<MQTTPacket, MQTTPacket>(wrappingChannelSynchronously: channel)
                }
            }
        let session = CloudSession()
        let (outgoing, outgoingContinuation) = AsyncStream.makeStream(of: MQTTPacket.self)
        let keepAlive = configuration.keepAlive
        outgoingContinuation.yield(
            .connect(
                .init(
                    protocolVersion: .v3_1_1,
                    clientID: clientID,
                    cleanStart: false,
                    keepAlive: UInt16(clamping: keepAlive.components.seconds)
                )
            )
        )
        do {
            try await channel.executeThenClose { inbound, outbound in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await packet in outgoing { try await outbound.write(packet) }
                    }
                    group.addTask {
                        for try await packet in inbound {
                            try self.received(packet, session: session, send: outgoingContinuation, clientID: clientID, logger: logger)
                        }
                        throw CloudError.closed
                    }
                    group.addTask {
                        try await self.watchLiveness(session: session, send: outgoingContinuation)
                    }
                    group.addTask {
                        // Publishing and subscribing start once CONNACK came.
                        while !session.isConnected {
                            await session.connectedSignal.wait()
                            try Task.checkCancellation()
                        }
                        await withDiscardingTaskGroup { work in
                            work.addTask {
                                while let next = await self.spooler.next() {
                                    outgoingContinuation.yield(
                                        .publish(
                                            .init(
                                                topic: next.message.topic,
                                                payload: ByteBuffer(bytes: next.message.payload),
                                                qos: .atLeastOnce,
                                                dup: next.duplicate,
                                                packetID: next.packetID
                                            )
                                        )
                                    )
                                }
                            }
                            work.addTask {
                                while !Task.isCancelled {
                                    await self.subscriptionsChanged.wait()
                                    self.updateSubscriptions(session: session, send: outgoingContinuation)
                                }
                            }
                        }
                        // Both end only when the session is cancelled; stay until then.
                        try Task.checkCancellation()
                    }
                    defer { group.cancelAll() }
                    // The first task to end (a failure, or the connection closing) ends the session.
                    try await group.next()
                }
            }
        } catch {
            outgoingContinuation.finish()
            throw error
        }
        outgoingContinuation.finish()
        return session.isConnected
    }

    private func watchLiveness(session: CloudSession, send: AsyncStream<MQTTPacket>.Continuation) async throws {
        try await Task.sleep(for: configuration.connectTimeout)
        guard session.isConnected else { throw CloudError.timedOut("CONNACK") }
        let keepAlive = configuration.keepAlive
        while true {
            try await Task.sleep(for: keepAlive / 2)
            if session.silence > keepAlive * 1.5 { throw CloudError.timedOut("any packet for 1.5 keep-alive intervals") }
            send.yield(.pingreq)
        }
    }

    private func received(
        _ packet: MQTTPacket,
        session: CloudSession,
        send: AsyncStream<MQTTPacket>.Continuation,
        clientID: String,
        logger: Logger
    ) throws {
        session.heard()
        switch packet {
        case .connack(let ack):
            guard !session.isConnected else { throw CloudError.protocolViolation("a second CONNACK") }
            guard ack.reasonCode == .success else { throw CloudError.refused(returnCode: ack.reasonCode.rawValue) }
            setState(.connected, clientID: clientID)
            logger.notice(
                "Connected to the cloud",
                metadata: [
                    "cloud.endpoint": "\(configuration.host):\(configuration.port)",
                    "mqtt.session_present": "\(ack.sessionPresent)",
                ]
            )
            spooler.rewind()
            // Subscriptions are made again on every connection (the broker may have dropped the session); the sync
            // compares shadows once they are all acknowledged, so nothing published meanwhile is missed.
            let filters = wantedFilters
            let packets = session.connected(subscribing: filters)
            for packet in packets { send.yield(packet) }
            shared.withLock { $0.status.subscriptions = filters.count }
            if packets.isEmpty { onConnected() }
        case .publish(let publish):
            onMessage(publish.topic, Array(publish.payload.readableBytesView))
            switch publish.qos {
            case .atMostOnce: break
            case .atLeastOnce: send.yield(.puback(.init(packetID: publish.packetID)))
            case .exactlyOnce: send.yield(.pubrec(.init(packetID: publish.packetID)))
            }
        case .pubrel(let ack):
            send.yield(.pubcomp(.init(packetID: ack.packetID)))
        case .puback(let ack):
            spooler.acknowledge(packetID: ack.packetID)
        case .suback(let ack):
            let (filters, allAcknowledged) = session.subscribed(packetID: ack.packetID)
            for (filter, code) in zip(filters, ack.reasonCodes) where code.rawValue >= 0x80 {
                logger.error("The cloud refused a subscription", metadata: ["mqtt.filter": "\(filter)"])
            }
            if allAcknowledged { onConnected() }
        case .unsuback, .pingresp:
            break
        case .connect, .pubrec, .pubcomp, .subscribe, .unsubscribe, .pingreq, .disconnect, .auth:
            throw CloudError.protocolViolation("unexpected packet type \(packet.packetType)")
        }
    }

    private func updateSubscriptions(session: CloudSession, send: AsyncStream<MQTTPacket>.Continuation) {
        let wanted = wantedFilters
        for packet in session.change(to: wanted) { send.yield(packet) }
        shared.withLock { $0.status.subscriptions = wanted.count }
    }

    private static func isIPAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }
}

/// One connection's protocol state, shared by its tasks: whether CONNACK came, when the cloud was last heard, and
/// the subscriptions made and awaiting SUBACK. Packet identifiers 60001…65535 are the control packets'; the spool
/// uses those below.
final class CloudSession: Sendable {
    private struct State {
        var connected = false
        var lastHeard = ContinuousClock.now
        var subscribed: Set<String> = []
        var pendingSubscribes: [UInt16: [String]] = [:]
        var initialSubscribesLeft: Set<UInt16> = []
        var lastPacketID: UInt16 = 60_000
    }

    private let state = Mutex(State())
    let connectedSignal = AsyncSignal()

    var isConnected: Bool { state.withLock { $0.connected } }

    var silence: Duration { ContinuousClock.now - state.withLock { $0.lastHeard } }

    func heard() { state.withLock { $0.lastHeard = .now } }

    /// CONNACK came: the SUBSCRIBEs that restore `filters`.
    func connected(subscribing filters: Set<String>) -> [MQTTPacket] {
        let packets = state.withLock { state in
            state.connected = true
            let packets = Self.subscribes(Array(filters).sorted(), state: &state)
            state.initialSubscribesLeft = Set(state.pendingSubscribes.keys)
            return packets
        }
        connectedSignal.signal()
        return packets
    }

    /// A SUBACK: the filters it answers, and whether it was the last of the connection's first subscriptions.
    func subscribed(packetID: UInt16) -> (filters: [String], allInitialAcknowledged: Bool) {
        state.withLock { state in
            let filters = state.pendingSubscribes.removeValue(forKey: packetID) ?? []
            let wasInitial = state.initialSubscribesLeft.remove(packetID) != nil
            return (filters, wasInitial && state.initialSubscribesLeft.isEmpty)
        }
    }

    /// SUBSCRIBE and UNSUBSCRIBE packets that turn what is subscribed into `wanted`.
    func change(to wanted: Set<String>) -> [MQTTPacket] {
        state.withLock { state in
            let added = wanted.subtracting(state.subscribed).sorted()
            let removed = state.subscribed.subtracting(wanted).sorted()
            var packets = Self.subscribes(added, state: &state)
            if !removed.isEmpty {
                packets.append(.unsubscribe(.init(packetID: Self.nextPacketID(&state), filters: removed)))
                state.subscribed.subtract(removed)
            }
            return packets
        }
    }

    private static func subscribes(_ filters: [String], state: inout State) -> [MQTTPacket] {
        var packets: [MQTTPacket] = []
        var start = 0
        while start < filters.count {
            let chunk = Array(filters[start..<min(start + CloudMQTTClient.filtersPerSubscribe, filters.count)])
            let packetID = nextPacketID(&state)
            state.pendingSubscribes[packetID] = chunk
            state.subscribed.formUnion(chunk)
            packets.append(
                .subscribe(.init(packetID: packetID, subscriptions: chunk.map { .init(filter: $0, qos: .atLeastOnce) }))
            )
            start += CloudMQTTClient.filtersPerSubscribe
        }
        return packets
    }

    private static func nextPacketID(_ state: inout State) -> UInt16 {
        state.lastPacketID = state.lastPacketID == UInt16.max ? 60_001 : state.lastPacketID + 1
        return state.lastPacketID
    }
}
