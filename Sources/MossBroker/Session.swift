import Logging
import MossMQTT
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// The broker side of one client id: subscriptions, outbound QoS flows and the queue behind them.
///
/// Publishers on any event loop call ``deliver(_:from:)``; the connected client's handler calls the rest on its
/// loop. All state is guarded by one lock; I/O happens outside it, on the connection's loop.
final class Session: @unchecked Sendable {
    enum Phase: UInt8 {
        case awaitingPuback = 1
        case awaitingPubrec = 2
        case awaitingPubcomp = 3
    }

    struct Inflight {
        var packetID: UInt16
        var delivery: Delivery
        var phase: Phase
    }

    /// What the connected client allows, and the bytes waiting to be written to it.
    struct Link {
        let handler: MQTTConnectionHandler
        let version: MQTTProtocolVersion
        let maximumPacketSize: Int
        /// min(the client's Receive Maximum, our in-flight limit).
        let sendQuota: Int
        let topicAliasMaximum: UInt16
        var outboundAliases: [String: UInt16] = [:]
        var outbox: ByteBuffer
        var flushScheduled = false
        var writable = true
    }

    enum DeliveryResult {
        case accepted
        /// Accepted, but the subscriber is behind: the publisher should pause reading for a while.
        case congested
    }

    let clientID: String
    unowned let core: BrokerCore
    private let lock = NIOLock()
    private let connected = Atomic<Bool>(false)

    // Guarded by `lock`.
    private var link: Link?
    private var inflight = CircularBuffer<Inflight>()
    private var queue = CircularBuffer<Delivery>()
    private var queuedQoS0 = 0
    private var lastPacketID: UInt16 = 0
    private var waiters: [ObjectIdentifier: MQTTConnectionHandler] = [:]
    /// Filter as subscribed (including any `$share/group/` prefix) → options; mirrors the tree for this session.
    private var subscriptionsByFilter: [String: SubscriptionEntry] = [:]
    /// Inbound QoS 2 packet ids awaiting PUBREL (they belong to the session, MQTT-4.3.3).
    private var incomingQoS2: Set<UInt16> = []
    private var expiryInterval: UInt32 = 0
    private var droppedSinceLog = 0

    init(clientID: String, core: BrokerCore) {
        self.clientID = clientID
        self.core = core
    }

    var isConnected: Bool { connected.load(ordering: .relaxed) }

    var sessionExpiryInterval: UInt32 {
        get { lock.withLock { expiryInterval } }
        set { lock.withLock { expiryInterval = newValue } }
    }

    // MARK: Subscriptions (called with the core lock held, so the tree and this mirror stay in step)

    func recordSubscription(_ filter: String, _ entry: SubscriptionEntry) -> Bool {
        lock.withLock { subscriptionsByFilter.updateValue(entry, forKey: filter) != nil }
    }

    func forgetSubscription(_ filter: String) -> Bool {
        lock.withLock { subscriptionsByFilter.removeValue(forKey: filter) != nil }
    }

    var subscriptions: [String: SubscriptionEntry] { lock.withLock { subscriptionsByFilter } }

    // MARK: Inbound QoS 2

    /// Records an inbound QoS 2 id; false when it is already awaiting PUBREL (a duplicate not to forward again).
    func beginIncomingQoS2(_ packetID: UInt16) -> Bool {
        lock.withLock { incomingQoS2.insert(packetID).inserted }
    }

    func completeIncomingQoS2(_ packetID: UInt16) -> Bool {
        lock.withLock { incomingQoS2.remove(packetID) != nil }
    }

    var incomingQoS2Count: Int { lock.withLock { incomingQoS2.count } }

    func isAwaitingRelease(_ packetID: UInt16) -> Bool { lock.withLock { incomingQoS2.contains(packetID) } }

    // MARK: Connection lifecycle

    /// Attaches a new connection, resends what was in flight (DUP) and drains the queue.
    func attach(_ newLink: Link, cleanStart: Bool) {
        let schedule: Bool = lock.withLock {
            if cleanStart {
                inflight.removeAll()
                queue.removeAll()
                queuedQoS0 = 0
                incomingQoS2.removeAll()
            }
            link = newLink
            connected.store(true, ordering: .relaxed)
            let now = NIODeadline.now()
            var expired = 0
            for index in inflight.indices {
                let entry = inflight[index]
                if entry.phase == .awaitingPubcomp {
                    appendControl(.pubrel(.init(packetID: entry.packetID)))
                } else if entry.delivery.message.isExpired(now: now) && link!.version == .v5 {
                    expired += 1
                } else {
                    _ = encode(entry.delivery, packetID: entry.packetID, dup: true, now: now)
                }
            }
            if expired > 0 {
                inflight.removeAll { $0.phase != .awaitingPubcomp && $0.delivery.message.isExpired(now: now) }
                core.countDropped(expired)
            }
            drainLocked(now: now)
            return scheduleFlushLocked()
        }
        if schedule { scheduleFlush(on: newLink.handler) }
    }

    /// Detaches `handler` if it is still the live connection; waiting publishers are released.
    func detach(_ handler: MQTTConnectionHandler) {
        let released: [MQTTConnectionHandler] = lock.withLock {
            guard let current = link, current.handler === handler else { return [] }
            link = nil
            connected.store(false, ordering: .relaxed)
            let released = Array(waiters.values)
            waiters.removeAll()
            return released
        }
        for waiter in released { waiter.resumeReading(from: self) }
    }

    /// The handler currently attached, if any.
    var attachedHandler: MQTTConnectionHandler? { lock.withLock { link?.handler } }

    // MARK: Delivery

    /// Queues or writes one message. Callable from any event loop.
    @discardableResult
    func deliver(_ delivery: Delivery, from publisher: MQTTConnectionHandler?) -> DeliveryResult {
        var result = DeliveryResult.accepted
        var flushHandler: MQTTConnectionHandler?
        lock.withLock {
            let limit = core.limits.maximumQueuedMessages
            guard link != nil else {
                // Offline persistent session: queue QoS 1/2 (and QoS 0 if configured), oldest dropped beyond the bound.
                guard delivery.qos != .atMostOnce || core.limits.queueQoS0WhileOffline else { return }
                enqueueLocked(delivery)
                if queue.count > limit { dropOldestLocked(preferQoS0: true) }
                core.markDirty(self)
                return
            }
            if queue.isEmpty && link!.writable
                && (delivery.qos == .atMostOnce || inflight.count < link!.sendQuota)
            {
                sendLocked(delivery, now: .now())
            } else {
                enqueueLocked(delivery)
                // The queue never holds more than `limit`: beyond it the oldest QoS 0 goes first, then the oldest.
                if queue.count > limit { dropOldestLocked(preferQoS0: true) }
                // Half full: publishers feeding this subscriber pause, so the bound is rarely reached.
                if queue.count >= Self.pauseMark(limit), let publisher, publisher !== link!.handler {
                    waiters[ObjectIdentifier(publisher)] = publisher
                    result = .congested
                }
            }
            if delivery.qos != .atMostOnce && expiryInterval > 0 { core.markDirty(self) }
            if scheduleFlushLocked() { flushHandler = link!.handler }
        }
        if let flushHandler { scheduleFlush(on: flushHandler) }
        return result
    }

    /// A PUBACK, PUBREC or PUBCOMP from the client. Returns false when no such packet id was in flight.
    @discardableResult
    func acknowledge(_ packetID: UInt16, phase: Phase, reasonCode: MQTTReasonCode, from handler: MQTTConnectionHandler) -> Bool {
        var flushHandler: MQTTConnectionHandler?
        var released: [MQTTConnectionHandler] = []
        let found: Bool = lock.withLock {
            // A connection that was taken over no longer speaks for the session.
            guard link?.handler === handler else { return false }
            guard let index = inflight.firstIndex(where: { $0.packetID == packetID && $0.phase == phase }) else {
                return false
            }
            if phase == .awaitingPubrec && !reasonCode.isFailure {
                inflight[index].phase = .awaitingPubcomp
                appendControl(.pubrel(.init(packetID: packetID)))
            } else {
                inflight.remove(at: index)
            }
            drainLocked(now: .now())
            if queue.count < Self.resumeMark(core.limits.maximumQueuedMessages) && !waiters.isEmpty {
                released = Array(waiters.values)
                waiters.removeAll()
            }
            if expiryInterval > 0 { core.markDirty(self) }
            if scheduleFlushLocked() { flushHandler = link?.handler }
            return true
        }
        if let flushHandler { scheduleFlush(on: flushHandler) }
        for waiter in released { waiter.resumeReading(from: self) }
        return found
    }

    /// The connection's writability changed (NIO's high/low watermarks).
    func writabilityChanged(_ writable: Bool, handler: MQTTConnectionHandler) {
        var flushHandler: MQTTConnectionHandler?
        var released: [MQTTConnectionHandler] = []
        lock.withLock {
            guard link?.handler === handler else { return }
            link!.writable = writable
            guard writable else { return }
            drainLocked(now: .now())
            if queue.count < Self.resumeMark(core.limits.maximumQueuedMessages) && !waiters.isEmpty {
                released = Array(waiters.values)
                waiters.removeAll()
            }
            if scheduleFlushLocked() { flushHandler = handler }
        }
        if let flushHandler { scheduleFlush(on: flushHandler) }
        for waiter in released { waiter.resumeReading(from: self) }
    }

    /// Takes the bytes waiting for `handler` (called on its loop by the scheduled flush).
    func takeOutbox(for handler: MQTTConnectionHandler) -> ByteBuffer? {
        lock.withLock {
            guard link?.handler === handler else { return nil }
            link!.flushScheduled = false
            guard link!.outbox.readableBytes > 0 else { return nil }
            let bytes = link!.outbox
            // A fresh buffer, so the next writes don't copy the bytes being flushed (copy-on-write).
            link!.outbox = ByteBuffer()
            return bytes
        }
    }

    // MARK: Persistence

    /// Everything needed to restore the session after a restart.
    func snapshot() -> SessionRecord {
        lock.withLock {
            SessionRecord(
                clientID: clientID,
                expiryInterval: expiryInterval,
                disconnectedAtMillis: link == nil ? wallClockMillis() : 0,
                subscriptions: subscriptionsByFilter.map { filter, entry in
                    SessionRecord.Subscription(filter: filter, options: entry.options, identifier: entry.identifier)
                },
                pending: inflight.compactMap { entry in
                    entry.phase == .awaitingPubcomp
                        ? nil : SessionRecord.Pending(delivery: entry.delivery, packetID: entry.packetID)
                } + queue.map { SessionRecord.Pending(delivery: $0, packetID: 0) },
                releasing: inflight.filter { $0.phase == .awaitingPubcomp }.map(\.packetID),
                incomingQoS2: Array(incomingQoS2)
            )
        }
    }

    /// Restores queued and in-flight state from a record (the session is offline).
    func restore(from record: SessionRecord) {
        lock.withLock {
            expiryInterval = record.expiryInterval
            incomingQoS2 = Set(record.incomingQoS2)
            for packetID in record.releasing {
                // The message is gone; only the PUBREL remains to be sent (MQTT-4.4.0-1).
                let placeholder = Message(
                    topic: "_",
                    payload: ByteBuffer(),
                    qos: .exactlyOnce,
                    retain: false,
                    properties: .init(),
                    expiryInterval: nil,
                    publisherClientID: nil
                )
                inflight.append(
                    .init(
                        packetID: packetID,
                        delivery: .init(message: placeholder, qos: .exactlyOnce, retain: false, subscriptionIdentifiers: []),
                        phase: .awaitingPubcomp
                    )
                )
                lastPacketID = max(lastPacketID, packetID)
            }
            for pending in record.pending {
                if pending.packetID != 0 {
                    inflight.append(
                        .init(
                            packetID: pending.packetID,
                            delivery: pending.delivery,
                            phase: pending.delivery.qos == .exactlyOnce ? .awaitingPubrec : .awaitingPuback
                        )
                    )
                    lastPacketID = max(lastPacketID, pending.packetID)
                } else {
                    enqueueLocked(pending.delivery)
                }
            }
        }
    }

    var queuedCount: Int { lock.withLock { queue.count + inflight.count } }

    /// Queue length at which publishers are paused, and below which they resume.
    static func pauseMark(_ limit: Int) -> Int { max(1, limit / 2) }
    static func resumeMark(_ limit: Int) -> Int { max(1, limit / 4) }

    // MARK: Internals (lock held)

    private func enqueueLocked(_ delivery: Delivery) {
        queue.append(delivery)
        if delivery.qos == .atMostOnce { queuedQoS0 += 1 }
    }

    private func dropOldestLocked(preferQoS0: Bool) {
        if preferQoS0 && queuedQoS0 > 0, let index = queue.firstIndex(where: { $0.qos == .atMostOnce }) {
            queue.remove(at: index)
            queuedQoS0 -= 1
        } else if let first = queue.popFirst() {
            if first.qos == .atMostOnce { queuedQoS0 -= 1 }
        } else {
            return
        }
        core.countDropped(1)
        droppedSinceLog += 1
        // Log the first drop and then every 1000th, so an overloaded client cannot flood the log.
        if droppedSinceLog == 1 || droppedSinceLog % 1000 == 0 {
            core.logger.warning(
                "Queue full; dropped oldest message",
                metadata: [
                    "mqtt.client_id": "\(clientID)",
                    "mqtt.queue_limit": "\(core.limits.maximumQueuedMessages)",
                    "mqtt.dropped": "\(droppedSinceLog)",
                ]
            )
        }
    }

    /// Moves queued messages to the wire while the window and the socket allow.
    private func drainLocked(now: NIODeadline) {
        guard let current = link else { return }
        while current.writable, let head = queue.first {
            if head.qos != .atMostOnce && inflight.count >= current.sendQuota { break }
            queue.removeFirst()
            if head.qos == .atMostOnce { queuedQoS0 -= 1 }
            sendLocked(head, now: now)
            if !link!.writable { break }
        }
    }

    private func sendLocked(_ delivery: Delivery, now: NIODeadline) {
        if delivery.message.isExpired(now: now) {
            core.countDropped(1)
            return
        }
        var packetID: UInt16 = 0
        if delivery.qos != .atMostOnce {
            packetID = nextPacketIDLocked()
        }
        guard encode(delivery, packetID: packetID, dup: false, now: now) else { return }
        if delivery.qos != .atMostOnce {
            inflight.append(
                .init(
                    packetID: packetID,
                    delivery: delivery,
                    phase: delivery.qos == .exactlyOnce ? .awaitingPubrec : .awaitingPuback
                )
            )
        }
    }

    private func nextPacketIDLocked() -> UInt16 {
        while true {
            lastPacketID = lastPacketID == UInt16.max ? 1 : lastPacketID + 1
            let candidate = lastPacketID
            if !inflight.contains(where: { $0.packetID == candidate }) { return candidate }
        }
    }

    /// Encodes a PUBLISH for the attached client into the outbox. False (and counted as dropped) when the
    /// packet is larger than the client accepts.
    private func encode(_ delivery: Delivery, packetID: UInt16, dup: Bool, now: NIODeadline) -> Bool {
        let message = delivery.message
        let version = link!.version
        var topic = message.topic
        var properties = MQTTProperties()
        // A new alias is recorded only once the packet that sets it is actually sent.
        var newAlias: UInt16?
        if version == .v5 {
            properties = message.properties
            if let remaining = message.remainingExpiry(now: now) { properties.append(.messageExpiryInterval(remaining)) }
            for id in delivery.subscriptionIdentifiers { properties.append(.subscriptionIdentifier(id)) }
            if link!.topicAliasMaximum > 0 && !dup {
                if let alias = link!.outboundAliases[topic] {
                    properties.append(.topicAlias(alias))
                    topic = ""
                } else if link!.outboundAliases.count < Int(link!.topicAliasMaximum) {
                    let alias = UInt16(link!.outboundAliases.count + 1)
                    newAlias = alias
                    properties.append(.topicAlias(alias))
                }
            }
        }
        let publish = MQTTPacket.Publish(
            topic: topic,
            payload: message.payload,
            qos: delivery.qos,
            retain: delivery.retain,
            dup: dup,
            packetID: packetID,
            properties: properties
        )
        if publish.encodedSize(version: version) > link!.maximumPacketSize {
            core.countDropped(1)
            core.logger.debug("Message larger than the client's maximum packet size; not sent",
                              metadata: ["mqtt.client_id": "\(clientID)", "mqtt.topic": "\(message.topic)"])
            return false
        }
        if let newAlias { link!.outboundAliases[message.topic] = newAlias }
        publish.encode(into: &link!.outbox, version: version)
        core.countSent()
        return true
    }

    private func appendControl(_ packet: MQTTPacket) {
        packet.encode(into: &link!.outbox, version: link!.version)
    }

    /// Marks a flush as scheduled; true when the caller must schedule it (outside the lock).
    private func scheduleFlushLocked() -> Bool {
        guard link != nil, link!.outbox.readableBytes > 0, !link!.flushScheduled else { return false }
        link!.flushScheduled = true
        return true
    }

    private func scheduleFlush(on handler: MQTTConnectionHandler) {
        handler.scheduleFlush(of: self)
    }
}
