import Logging
import MossMQTT
import NIOCore

/// What a connection knows about the listener it arrived on.
struct ListenerContext: Sendable {
    let name: String
    let isTLS: Bool
    let thingsByFingerprint: [String: String]
}

/// One MQTT connection: the protocol rules for a client, from CONNECT to close, on the channel's event loop.
///
/// It decodes packets itself (``MQTTPacketDecoder``) from the bytes it reads; everything written is already-encoded bytes.
/// Other event loops reach it only through `scheduleFlush(of:)`, `resumeReading(from:)` and `takeOver()`,
/// which hop onto its loop.
final class MQTTConnectionHandler: ChannelDuplexHandler, NIOScheduledCallbackHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State { case awaitingConnect, connected, closed }

    let core: BrokerCore
    let listener: ListenerContext
    let eventLoop: any EventLoop
    private let registry: ConnectionRegistry
    private let brokerLogger: Logger
    /// For log lines only; set once CONNECT names the client.
    private var loggedClientID: String?
    private var context: ChannelHandlerContext?

    private var state = State.awaitingConnect
    private var decoder: MQTTPacketDecoder
    /// Bytes read but not yet decoded (a partial packet, or packets held back while paused).
    private var received = ByteBuffer()
    private var version = MQTTProtocolVersion.v3_1_1
    private var session: Session?
    private var identity: ClientIdentity?
    private var connectedAt = 0.0
    private var peer = "?"
    private var will: MQTTPacket.Will?
    private var willDelay: UInt32 = 0
    private var keepAlive: TimeAmount?
    private var lastRead = NIODeadline.now()
    /// The connect timeout until CONNECT, then the keep-alive check: one timer at a time, calling back this handler
    /// (no promise, future and closures per timer, as `scheduleTask` would keep for every idle connection).
    private var timer: NIOScheduledCallback?
    private var inboundAliases: [UInt16: String] = [:]
    private var sessionExpiryAtConnect: UInt32 = 0
    private var requestProblemInformation = true
    /// Set when the client sent DISCONNECT (no will unless 0x04) or the broker is shutting down.
    private var willSuppressed = false
    private var deniedPublishLogged = false

    // Back-pressure: sessions whose queues are full because of this publisher.
    private var pausedBy: Set<ObjectIdentifier> = []
    /// Sessions this publisher already waited a whole pause for: their queue bound applies until they catch up
    /// (otherwise one stuck subscriber would hold every publisher to one message per pause).
    private var waitedFor: Set<ObjectIdentifier> = []
    private var readPending = false
    /// Set while the last bytes of a closed connection are handled: nothing to pause any more.
    private var drainingOnClose = false
    private var resumeTask: Scheduled<Void>?

    init(core: BrokerCore, listener: ListenerContext, eventLoop: any EventLoop, logger: Logger, registry: ConnectionRegistry) {
        self.core = core
        self.listener = listener
        self.eventLoop = eventLoop
        self.brokerLogger = logger
        self.registry = registry
        self.decoder = MQTTPacketDecoder(maximumPacketSize: core.limits.maximumPacketSize)
    }

    /// The broker's logger with this connection's peer and client id. Built for each (rare) log line instead of
    /// stored: metadata set on a stored logger copies its storage and every handler's metadata, ~1 kB per
    /// idle connection.
    private var logger: Logger {
        var logger = brokerLogger
        logger[metadataKey: "mqtt.peer"] = "\(peer)"
        if let loggedClientID { logger[metadataKey: "mqtt.client_id"] = "\(loggedClientID)" }
        return logger
    }

    /// A snapshot for `moss status`; nil until CONNECT completed. Must be called on the event loop.
    var clientInfo: ConnectedClient? {
        guard state == .connected, let identity else { return nil }
        return ConnectedClient(
            clientID: identity.clientID,
            identity: identity.identity,
            listener: listener.name,
            peer: peer,
            protocolVersion: version.description,
            connectedAt: connectedAt
        )
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if let address = context.channel.remoteAddress {
            peer = "\(address.ipAddress ?? "?"):\(address.port ?? 0)"
        }
        // Throws only while the event loop shuts down, when there is nothing left to time out.
        timer = try? context.eventLoop.scheduleCallback(at: .now() + TimeAmount(core.limits.connectTimeout), handler: self)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        resumeTask?.cancel()
        if state == .connected && received.readableBytes > 0 {
            // Packets the client sent before closing were read while it was paused: they still count.
            pausedBy.removeAll()
            drainingOnClose = true
            decodeReceived(context: context)
        }
        let wasConnected = state == .connected
        state = .closed
        if wasConnected, let session, let identity {
            session.detach(self)
            var willMessage: Message?
            if let will, !willSuppressed {
                willMessage = Message(
                    topic: will.topic,
                    payload: will.payload,
                    qos: will.qos,
                    retain: will.retain,
                    properties: Message.forwardedProperties(of: will.properties),
                    expiryInterval: will.properties.messageExpiryInterval,
                    publisherClientID: identity.clientID
                )
            }
            core.connectionClosed(session, will: willMessage, willDelay: willDelay, willSource: .client(identity))
            if brokerLogger.logLevel <= .debug { logger.debug("Client disconnected") }
        }
        registry.remove(self)
        self.context = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        guard state != .closed else { return }
        if received.readableBytes == 0 {
            received = bytes
        } else {
            received.writeBuffer(&bytes)
        }
        decodeReceived(context: context)
    }

    /// Decodes and handles whole packets from `received` until it runs out, the connection closes, or a
    /// congested subscriber pauses this publisher (the rest waits, so the pause takes effect at once).
    /// Decoding here rather than in a ByteToMessageHandler saves a pipeline hop and a boxed packet per message.
    private func decodeReceived(context: ChannelHandlerContext) {
        while state != .closed && pausedBy.isEmpty {
            let packet: MQTTPacket?
            do {
                packet = try decoder.decode(buffer: &received)
            } catch {
                received.clear()
                return codecFailed(error, context: context)
            }
            guard let packet else { break }
            switch state {
            case .closed:
                return
            case .awaitingConnect:
                guard case .connect(let connect) = packet else { return close() }
                handleConnect(connect, context: context)
            case .connected:
                handle(packet, context: context)
            }
        }
        if received.readableBytes == 0 {
            // Drop the read buffer's storage: an idle connection should not keep its last read (KBs each).
            received = ByteBuffer()
        } else if received.readerIndex > 16_384 {
            received.discardReadBytes()
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        lastRead = .now()
        context.flush()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        session?.writabilityChanged(context.channel.isWritable, handler: self)
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        codecFailed(error, context: context)
    }

    private func codecFailed(_ error: any Error, context: ChannelHandlerContext) {
        if let codecError = error as? MQTTCodecError {
            logger.info("Closing connection after a bad packet", metadata: ["mqtt.error": "\(codecError)"])
            if state == .awaitingConnect, let level = codecError.unsupportedProtocolLevel {
                // Answer in a form the client can read: 3.1.1 return code 0x01, or 5.0 reason 0x84.
                let code: MQTTReasonCode = level == 5 ? .unsupportedProtocolVersion : .v3UnacceptableProtocolVersion
                write(.connack(.init(reasonCode: code)), version: level == 5 ? .v5 : .v3_1_1, context: context)
            } else if state == .connected && version == .v5 {
                disconnect(codecError.reasonCode, reason: codecError.description)
                return
            }
        } else {
            logger.debug("Connection error", metadata: ["mqtt.error": "\(error)"])
        }
        close()
    }

    func read(context: ChannelHandlerContext) {
        if pausedBy.isEmpty {
            context.read()
        } else {
            readPending = true
        }
    }

    // MARK: CONNECT

    private func handleConnect(_ connect: MQTTPacket.Connect, context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        version = connect.protocolVersion
        let isV5 = version == .v5
        let limits = core.limits

        func refuse(_ v5Code: MQTTReasonCode, _ v3Code: MQTTReasonCode, _ why: String) {
            logger.info("Refused connection", metadata: ["mqtt.reason": "\(why)", "mqtt.client_id": "\(connect.clientID)"])
            var properties = MQTTProperties()
            if isV5 { properties.append(.reasonString(why)) }
            write(.connack(.init(reasonCode: isV5 ? v5Code : v3Code, properties: properties)), context: context)
            close()
        }

        if connect.properties.authenticationMethod != nil {
            return refuse(.badAuthenticationMethod, .v3NotAuthorized, "enhanced authentication is not supported")
        }
        var clientID = connect.clientID
        var assigned = false
        if clientID.isEmpty {
            guard isV5 || connect.cleanStart else {
                return refuse(.clientIdentifierNotValid, .v3IdentifierRejected,
                              "an empty client identifier requires a clean session")
            }
            clientID = "moss-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
            assigned = true
        }
        loggedClientID = clientID

        var serverKeepAlive: UInt16?
        var effectiveKeepAlive = connect.keepAlive
        if connect.keepAlive > limits.maximumKeepAlive || (connect.keepAlive == 0 && limits.maximumKeepAlive < 65_535) {
            guard isV5 else {
                return refuse(.clientIdentifierNotValid, .v3IdentifierRejected,
                              "keep alive \(connect.keepAlive) s exceeds the maximum of \(limits.maximumKeepAlive) s")
            }
            serverKeepAlive = limits.maximumKeepAlive
            effectiveKeepAlive = limits.maximumKeepAlive
        }

        // Identity: on TLS the thing the deployed group maps the certificate to, else the configured map, else the
        // certificate's CN; the client id on plain TCP.
        var identityName = clientID
        var fingerprint: String?
        if listener.isTLS {
            guard let peerIdentity = TLSPeerIdentity.read(from: context.pipeline) else {
                return refuse(.notAuthorized, .v3NotAuthorized, "a client certificate is required")
            }
            fingerprint = peerIdentity.fingerprint
            if let thing = core.interceptor.thing(forCertificateFingerprint: peerIdentity.fingerprint)
                ?? listener.thingsByFingerprint[peerIdentity.fingerprint]
            {
                identityName = thing
            } else if let commonName = peerIdentity.commonName {
                identityName = commonName
            } else {
                return refuse(.notAuthorized, .v3NotAuthorized, "the client certificate has no subject CN and no mapped thing")
            }
        }
        let identity = ClientIdentity(
            clientID: clientID,
            identity: identityName,
            listener: listener.name,
            certificateFingerprint: fingerprint,
            protocolVersion: version
        )
        guard core.interceptor.authorizeConnection(identity) else {
            return refuse(.notAuthorized, .v3NotAuthorized, "connection not authorized for \(identityName)")
        }
        if let will = connect.will, !core.interceptor.authorizePublish(will.topic, from: identity) {
            return refuse(.notAuthorized, .v3NotAuthorized, "will topic '\(will.topic)' not authorized")
        }

        var expiry: UInt32 = connect.cleanStart ? 0 : limits.maximumSessionExpiry
        var cappedExpiry: UInt32?
        if isV5 {
            expiry = connect.properties.sessionExpiryInterval ?? 0
            if expiry > limits.maximumSessionExpiry {
                expiry = limits.maximumSessionExpiry
                cappedExpiry = expiry
            }
        }
        sessionExpiryAtConnect = expiry
        will = connect.will
        willDelay = connect.will?.properties.willDelayInterval ?? 0
        requestProblemInformation = (connect.properties.requestProblemInformation ?? 1) == 1
        keepAlive = effectiveKeepAlive > 0 ? .milliseconds(Int64(effectiveKeepAlive) * 1500) : nil

        let clientReceiveMaximum = Int(connect.properties.receiveMaximum ?? UInt16.max)
        let link = Session.Link(
            handler: self,
            version: version,
            maximumPacketSize: Int(connect.properties.maximumPacketSize ?? UInt32.max),
            sendQuota: min(clientReceiveMaximum, limits.maximumInflightMessages),
            topicAliasMaximum: isV5 ? connect.properties.topicAliasMaximum ?? 0 : 0,
            outbox: context.channel.allocator.buffer(capacity: 0),
            writable: context.channel.isWritable
        )
        // CONNACK goes out before anything the session had queued: the flush attach schedules runs later.
        let opened = core.openSession(clientID: clientID, cleanStart: connect.cleanStart, identity: identity, expiry: expiry, link: link)
        session = opened.session
        self.identity = identity
        connectedAt = Double(wallClockMillis()) / 1000
        state = .connected
        opened.previous?.takeOver()
        if let info = clientInfo { registry.connected(self, as: info) }

        var properties = MQTTProperties()
        if isV5 {
            properties.append(.receiveMaximum(UInt16(clamping: limits.maximumInflightMessages)))
            properties.append(.maximumPacketSize(UInt32(clamping: limits.maximumPacketSize)))
            if limits.topicAliasMaximum > 0 { properties.append(.topicAliasMaximum(limits.topicAliasMaximum)) }
            if assigned { properties.append(.assignedClientIdentifier(clientID)) }
            if let serverKeepAlive { properties.append(.serverKeepAlive(serverKeepAlive)) }
            if let cappedExpiry { properties.append(.sessionExpiryInterval(cappedExpiry)) }
        }
        write(.connack(.init(sessionPresent: opened.present, reasonCode: .success, properties: properties)), context: context)
        scheduleKeepAliveCheck()
        if brokerLogger.logLevel <= .debug {
            logger.debug("Client connected", metadata: ["mqtt.version": "\(version)", "mqtt.identity": "\(identityName)"])
        }
    }

    // MARK: Packets after CONNECT

    private func handle(_ packet: MQTTPacket, context: ChannelHandlerContext) {
        switch packet {
        case .publish(let publish):
            handlePublish(publish, context: context)
        case .puback(let ack):
            session?.acknowledge(ack.packetID, phase: .awaitingPuback, reasonCode: ack.reasonCode, from: self)
        case .pubrec(let ack):
            if session?.acknowledge(ack.packetID, phase: .awaitingPubrec, reasonCode: ack.reasonCode, from: self) != true,
                !ack.reasonCode.isFailure
            {
                write(.pubrel(.init(packetID: ack.packetID, reasonCode: version == .v5 ? .packetIdentifierNotFound : .success)), context: context)
            }
        case .pubcomp(let ack):
            session?.acknowledge(ack.packetID, phase: .awaitingPubcomp, reasonCode: ack.reasonCode, from: self)
        case .pubrel(let ack):
            let known = session?.completeIncomingQoS2(ack.packetID) ?? false
            let code: MQTTReasonCode = known || version != .v5 ? .success : .packetIdentifierNotFound
            write(.pubcomp(.init(packetID: ack.packetID, reasonCode: code)), context: context)
        case .subscribe(let subscribe):
            handleSubscribe(subscribe, context: context)
        case .unsubscribe(let unsubscribe):
            guard let session else { return }
            let codes = unsubscribe.filters.map { filter -> MQTTReasonCode in
                core.unsubscribe(session, filter: filter) ? .success : .noSubscriptionExisted
            }
            write(.unsuback(.init(packetID: unsubscribe.packetID, reasonCodes: codes)), context: context)
        case .pingreq:
            write(.pingresp, context: context)
        case .disconnect(let disconnect):
            handleDisconnect(disconnect)
        case .auth:
            disconnect(.protocolError, reason: "AUTH without an authentication method in CONNECT")
        case .connect:
            protocolViolation("a second CONNECT")
        case .connack, .suback, .unsuback, .pingresp:
            protocolViolation("packet type \(packet.packetType) is sent by servers only")
        }
    }

    private func handlePublish(_ publish: MQTTPacket.Publish, context: ChannelHandlerContext) {
        guard let session, let identity else { return }
        let isV5 = version == .v5
        var topic = publish.topic
        if isV5, let alias = publish.properties.topicAlias {
            guard alias > 0 && alias <= core.limits.topicAliasMaximum else {
                return disconnect(.topicAliasInvalid, reason: "topic alias \(alias) outside 1...\(core.limits.topicAliasMaximum)")
            }
            if topic.isEmpty {
                guard let known = inboundAliases[alias] else {
                    return disconnect(.protocolError, reason: "topic alias \(alias) was never set")
                }
                topic = known
            } else {
                inboundAliases[alias] = topic
            }
        }
        if publish.qos == .exactlyOnce && session.incomingQoS2Count >= core.limits.maximumInflightMessages
            && !session.isAwaitingRelease(publish.packetID)
        {
            // More unacknowledged QoS 2 messages than the Receive Maximum we announced (MQTT-3.3.4-7/-8).
            guard isV5 else { return protocolViolation("more than \(core.limits.maximumInflightMessages) QoS 2 messages awaiting PUBREL") }
            return disconnect(.receiveMaximumExceeded, reason: "receive maximum \(core.limits.maximumInflightMessages) exceeded")
        }
        core.countReceived()

        var refusal: (MQTTReasonCode, String)?
        if topic.hasPrefix("$SYS") || topic.hasPrefix("$share/") {
            refusal = (.topicNameInvalid, "clients may not publish to '\(topic)'")
        } else if !core.interceptor.authorizePublish(topic, from: identity) {
            refusal = (.notAuthorized, "publish to '\(topic)' not authorized")
        } else if isV5 && publish.properties.payloadFormatIndicator == 1
            && String(validating: publish.payload.readableBytesView, as: UTF8.self) == nil
        {
            refusal = (.payloadFormatInvalid, "payload is not UTF-8 as its payload format indicator says")
        }
        if let (code, why) = refusal {
            if !deniedPublishLogged {
                deniedPublishLogged = true
                logger.notice("Refused PUBLISH", metadata: ["mqtt.topic": "\(topic)", "mqtt.reason": "\(why)"])
            }
            // 3.1.1 has no way to say no: acknowledge and drop, as mosquitto does (logged above).
            let ackCode = isV5 ? code : .success
            switch publish.qos {
            case .atMostOnce: break
            case .atLeastOnce: write(.puback(ackAck(publish.packetID, ackCode, why)), context: context)
            case .exactlyOnce: write(.pubrec(ackAck(publish.packetID, ackCode, why)), context: context)
            }
            return
        }

        if publish.qos == .exactlyOnce && !session.beginIncomingQoS2(publish.packetID) {
            // A resend of a QoS 2 message already accepted: acknowledge again, forward nothing (MQTT-4.3.3).
            write(.pubrec(.init(packetID: publish.packetID)), context: context)
            return
        }
        let message = Message(
            topic: topic,
            payload: publish.payload,
            qos: publish.qos,
            retain: publish.retain,
            properties: isV5 ? Message.forwardedProperties(of: publish.properties) : .init(),
            expiryInterval: isV5 ? publish.properties.messageExpiryInterval : nil,
            publisherClientID: identity.clientID
        )
        let congested = core.route(message, from: .client(identity), publisher: self)
        let acknowledgement: MQTTPacket? =
            switch publish.qos {
            case .atMostOnce: nil
            case .atLeastOnce: .puback(.init(packetID: publish.packetID))
            case .exactlyOnce: .pubrec(.init(packetID: publish.packetID))
            }
        if core.interceptor.observesAcceptedPublishes {
            let accepted = BrokerMessage(
                topic: topic,
                payload: publish.payload,
                qos: publish.qos,
                retain: publish.retain,
                properties: message.properties
            )
            if let acknowledgement {
                // An endpoint may store the message first; the acknowledgement goes when it says so.
                let loop = context.eventLoop
                let bound = NIOLoopBound(context, eventLoop: loop)
                core.interceptor.publishAccepted(accepted, from: identity) { [self] in
                    if loop.inEventLoop {
                        self.write(acknowledgement, context: bound.value)
                    } else {
                        loop.execute {
                            self.write(acknowledgement, context: bound.value)
                            bound.value.flush()
                        }
                    }
                }
            } else {
                core.interceptor.publishAccepted(accepted, from: identity)
            }
        } else if let acknowledgement {
            write(acknowledgement, context: context)
        }
        for blocked in congested { pause(for: blocked) }
    }

    private func ackAck(_ packetID: UInt16, _ code: MQTTReasonCode, _ why: String) -> MQTTPacket.Ack {
        var properties = MQTTProperties()
        if version == .v5 && requestProblemInformation && code.isFailure { properties.append(.reasonString(why)) }
        return .init(packetID: packetID, reasonCode: code, properties: properties)
    }

    private func handleSubscribe(_ subscribe: MQTTPacket.Subscribe, context: ChannelHandlerContext) {
        guard let session, let identity else { return }
        let isV5 = version == .v5
        let identifiers = subscribe.properties.subscriptionIdentifiers
        if identifiers.count > 1 { return disconnect(.protocolError, reason: "more than one subscription identifier") }
        let identifier = identifiers.first
        var codes: [MQTTReasonCode] = []
        var retainedToSend: [(Message, MQTTPacket.Subscription)] = []
        var reasons: [String] = []
        for requested in subscribe.subscriptions {
            let shared: (group: String, filter: String)?
            do {
                shared = try MQTTTopic.sharedSubscription(requested.filter)
                try MQTTTopic.validateFilter(shared?.filter ?? requested.filter)
            } catch {
                guard isV5 else { return protocolViolation("invalid topic filter '\(requested.filter)': \(error)") }
                codes.append(.topicFilterInvalid)
                reasons.append("'\(requested.filter)': \(error)")
                continue
            }
            if shared != nil && requested.noLocal {
                return disconnect(.protocolError, reason: "No Local on a shared subscription")
            }
            guard core.interceptor.authorizeSubscription(requested.filter, for: identity) else {
                logger.notice("Refused SUBSCRIBE", metadata: ["mqtt.filter": "\(requested.filter)"])
                codes.append(isV5 ? .notAuthorized : .v3SubscribeFailure)
                reasons.append("'\(requested.filter)': not authorized")
                continue
            }
            let existed = core.subscribe(session, filter: requested.filter, shared: shared, options: requested, identifier: identifier)
            codes.append(MQTTReasonCode(requested.qos.rawValue))
            // Retained messages: never for shared subscriptions; Retain Handling decides the rest (MQTT-3.3.1-9..11).
            let sendRetained: Bool
            switch requested.retainHandling {
            case .sendOnSubscribe: sendRetained = shared == nil
            case .sendOnNewSubscription: sendRetained = shared == nil && !existed
            case .doNotSend: sendRetained = false
            }
            if sendRetained {
                for message in core.retainedMessages(matching: requested.filter) { retainedToSend.append((message, requested)) }
            }
        }
        var properties = MQTTProperties()
        if isV5 && requestProblemInformation && !reasons.isEmpty { properties.append(.reasonString(reasons.joined(separator: "; "))) }
        write(.suback(.init(packetID: subscribe.packetID, reasonCodes: codes, properties: properties)), context: context)
        for (message, options) in retainedToSend {
            if core.interceptor.filtersDeliveries, let identity = self.identity, !core.interceptor.mayDeliver(topic: message.topic, from: .endpoint("retained"), to: identity) {
                continue
            }
            session.deliver(
                Delivery(message: message, qos: min(message.qos, options.qos), retain: true, subscriptionIdentifiers: identifier.map { [$0] } ?? []),
                from: nil
            )
        }
    }

    private func handleDisconnect(_ disconnect: MQTTPacket.Disconnect) {
        if version == .v5, let newExpiry = disconnect.properties.sessionExpiryInterval {
            if sessionExpiryAtConnect == 0 && newExpiry != 0 {
                return self.disconnect(.protocolError, reason: "session expiry set on DISCONNECT after 0 on CONNECT")
            }
            session?.sessionExpiryInterval = min(newExpiry, core.limits.maximumSessionExpiry)
        }
        // Normal disconnection discards the will; 0x04 asks for it to be sent (MQTT-3.14.4-3).
        willSuppressed = disconnect.reasonCode != .disconnectWithWillMessage
        close()
    }

    // MARK: Keep alive

    private func scheduleKeepAliveCheck() {
        guard let keepAlive, let context else { return }
        timer = try? context.eventLoop.scheduleCallback(at: lastRead + keepAlive, handler: self)
    }

    /// The timer fired: the connect timeout while awaiting CONNECT, the keep-alive check once connected.
    func handleScheduledCallback(eventLoop: some EventLoop) {
        timer = nil
        switch state {
        case .awaitingConnect:
            logger.info("Closing connection that did not complete CONNECT in time")
            close()
        case .connected:
            guard let keepAlive else { return }
            if NIODeadline.now() >= lastRead + keepAlive {
                logger.info("Keep alive expired; closing connection")
                disconnect(.keepAliveTimeout, reason: "no packet within 1.5 × keep alive")
            } else {
                scheduleKeepAliveCheck()
            }
        case .closed:
            return
        }
    }

    // MARK: Back-pressure

    private func pause(for session: Session) {
        guard !drainingOnClose else { return }
        let id = ObjectIdentifier(session)
        guard !waitedFor.contains(id) else { return }
        pausedBy.insert(id)
        if resumeTask == nil {
            // Never stall a publisher for long behind one slow subscriber: after a second the queue bound
            // (drop oldest, counted) takes over.
            resumeTask = eventLoop.scheduleTask(in: .seconds(1)) { [weak self] in
                guard let self else { return }
                self.resumeTask = nil
                self.waitedFor.formUnion(self.pausedBy)
                self.pausedBy.removeAll()
                self.resumeReadingIfIdle()
            }
        }
    }

    /// A session this publisher was waiting for has room again. Callable from any thread.
    func resumeReading(from session: Session) {
        let id = ObjectIdentifier(session)
        eventLoop.execute {
            self.waitedFor.remove(id)
            guard self.pausedBy.remove(id) != nil, self.pausedBy.isEmpty else { return }
            self.resumeTask?.cancel()
            self.resumeTask = nil
            self.resumeReadingIfIdle()
        }
    }

    private func resumeReadingIfIdle() {
        guard pausedBy.isEmpty, let context else { return }
        if received.readableBytes > 0 {
            decodeReceived(context: context)
            context.flush()
            guard pausedBy.isEmpty else { return }
        }
        guard readPending else { return }
        readPending = false
        context.read()
    }

    // MARK: Writing and closing

    /// Writes whatever `session` queued for this connection. Callable from any thread.
    func scheduleFlush(of session: Session) {
        eventLoop.execute {
            guard let context = self.context, let bytes = session.takeOutbox(for: self) else { return }
            context.writeAndFlush(self.wrapOutboundOut(bytes), promise: nil)
        }
    }

    /// Another connection took over this client id. Callable from any thread.
    func takeOver() {
        eventLoop.execute {
            guard self.state == .connected else { return }
            self.logger.info("Session taken over by a new connection")
            self.disconnect(.sessionTakenOver, reason: "another connection used this client identifier")
        }
    }

    /// Broker shutdown: tell v5 clients why, close, and publish no will. Callable from any thread.
    func shutDown() {
        eventLoop.execute {
            self.willSuppressed = true
            if self.state == .connected && self.version == .v5 {
                self.disconnect(.serverShuttingDown, reason: "broker shutting down")
            } else {
                self.close()
            }
        }
    }

    private func protocolViolation(_ why: String) {
        logger.info("Closing connection after a protocol violation", metadata: ["mqtt.reason": "\(why)"])
        if version == .v5 {
            disconnect(.protocolError, reason: why)
        } else {
            close()
        }
    }

    /// Sends a v5 DISCONNECT with `code` (nothing for 3.1.1) and closes.
    private func disconnect(_ code: MQTTReasonCode, reason: String) {
        guard let context, state != .closed else { return }
        if version == .v5 && state == .connected {
            var properties = MQTTProperties()
            if requestProblemInformation { properties.append(.reasonString(reason)) }
            write(.disconnect(.init(reasonCode: code, properties: properties)), context: context)
            context.flush()
        }
        close()
    }

    private func close() {
        guard let context else { return }
        context.flush()
        context.close(promise: nil)
    }

    private func write(_ packet: MQTTPacket, version: MQTTProtocolVersion? = nil, context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: 16)
        packet.encode(into: &buffer, version: version ?? self.version)
        context.write(wrapOutboundOut(buffer), promise: nil)
    }
}
