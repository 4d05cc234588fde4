import Logging
import MossMQTT
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// The broker's shared state: sessions, the subscription tree, retained messages, counters, and the
/// write-behind bookkeeping. Guarded by one lock that is never held across I/O or a call into a session's
/// delivery path.
final class BrokerCore: @unchecked Sendable {
    let limits: BrokerLimits
    let logger: Logger
    let interceptor: any BrokerInterceptor
    /// Runs session-expiry and will-delay timers.
    let timerLoop: any EventLoop

    private let lock = NIOLock()
    private var sessions: [String: Session] = [:]
    private let tree = SubscriptionTree()
    private var retained: [String: Message] = [:]
    private var expiryTimers: [String: Scheduled<Void>] = [:]
    private var delayedWills: [String: Scheduled<Void>] = [:]
    private var identities: [String: ClientIdentity] = [:]

    private let received = Atomic<UInt64>(0)
    private let sent = Atomic<UInt64>(0)
    private let dropped = Atomic<UInt64>(0)

    private let dirtyLock = NIOLock()
    private var dirtySessions: [ObjectIdentifier: Session] = [:]
    private var deletedSessions: Set<String> = []
    private var dirtyRetained: Set<String> = []

    init(limits: BrokerLimits, interceptor: any BrokerInterceptor, timerLoop: any EventLoop, logger: Logger) {
        self.limits = limits
        self.interceptor = interceptor
        self.timerLoop = timerLoop
        self.logger = logger
    }

    // MARK: Counters

    func countReceived() { received.add(1, ordering: .relaxed) }
    func countSent() { sent.add(1, ordering: .relaxed) }
    func countDropped(_ n: Int) { dropped.add(UInt64(n), ordering: .relaxed) }

    var counters: (received: UInt64, sent: UInt64, dropped: UInt64) {
        (received.load(ordering: .relaxed), sent.load(ordering: .relaxed), dropped.load(ordering: .relaxed))
    }

    var sessionCount: Int { lock.withLock { sessions.count } }
    var retainedCount: Int { lock.withLock { retained.count } }

    // MARK: Routing

    /// Routes one message to every matching subscriber the interceptor allows. Returns the subscribers that are
    /// congested: the publishing connection pauses reading until they catch up.
    @discardableResult
    func route(_ message: Message, from source: MessageSource, publisher: MQTTConnectionHandler?) -> [Session] {
        if message.retain { storeRetained(message) }
        var targets: [(session: Session, delivery: Delivery, shared: Bool)] = []
        var index: [ObjectIdentifier: Int] = [:]
        let filters = interceptor.filtersDeliveries
        lock.withLock {
            tree.forEachMatch(topic: message.topic) { entry in
                if entry.options.noLocal, let publisherID = message.publisherClientID,
                    publisherID == entry.session.clientID
                {
                    return
                }
                if filters, let identity = identities[entry.session.clientID],
                    !interceptor.mayDeliver(topic: message.topic, from: source, to: identity)
                {
                    return
                }
                let qos = min(message.qos, entry.options.qos)
                let retain = entry.options.retainAsPublished && message.retain
                let ids = entry.identifier.map { [$0] } ?? []
                // Overlapping subscriptions of one session: one copy at the highest QoS carrying every identifier
                // (MQTT-3.3.4-2/-3). Shared subscriptions are separate deliveries.
                if !entry.shared {
                    let existing =
                        index.isEmpty
                        ? targets.firstIndex { !$0.shared && $0.session === entry.session }
                        : index[ObjectIdentifier(entry.session)]
                    if let at = existing {
                        targets[at].delivery.qos = max(targets[at].delivery.qos, qos)
                        targets[at].delivery.retain = targets[at].delivery.retain || retain
                        targets[at].delivery.subscriptionIdentifiers += ids
                        return
                    }
                }
                targets.append(
                    (entry.session, Delivery(message: message, qos: qos, retain: retain, subscriptionIdentifiers: ids), entry.shared)
                )
                // Past a handful of targets, a linear search per match would make fan-out quadratic.
                if !entry.shared && !index.isEmpty {
                    index[ObjectIdentifier(entry.session)] = targets.count - 1
                } else if targets.count == 16 {
                    for (i, t) in targets.enumerated() where !t.shared { index[ObjectIdentifier(t.session)] = i }
                }
            }
        }
        var congested: [Session] = []
        for target in targets where target.session.deliver(target.delivery, from: publisher) == .congested {
            congested.append(target.session)
        }
        return congested
    }

    // MARK: Retained messages

    private func storeRetained(_ message: Message) {
        let stored: Bool = lock.withLock {
            if message.payload.readableBytes == 0 {
                return retained.removeValue(forKey: message.topic) != nil
            }
            if retained[message.topic] == nil && retained.count >= limits.maximumRetainedMessages {
                return false
            }
            retained[message.topic] = message
            return true
        }
        if stored {
            dirtyLock.withLock { _ = dirtyRetained.insert(message.topic) }
        } else if message.payload.readableBytes > 0 {
            countDropped(1)
            logger.warning("Retained message limit reached; message not retained",
                           metadata: ["mqtt.topic": "\(message.topic)", "mqtt.retained_limit": "\(limits.maximumRetainedMessages)"])
        }
    }

    /// Unexpired retained messages whose topic matches `filter`.
    func retainedMessages(matching filter: String) -> [Message] {
        let now = NIODeadline.now()
        return lock.withLock {
            retained.values.filter { MQTTTopic.matches(filter: filter, topic: $0.topic) && !$0.isExpired(now: now) }
        }
    }

    // MARK: Subscriptions

    /// Adds or replaces a subscription. Returns whether the session already had one on this filter.
    func subscribe(
        _ session: Session,
        filter: String,
        shared: (group: String, filter: String)?,
        options: MQTTPacket.Subscription,
        identifier: UInt32?
    ) -> Bool {
        let entry = SubscriptionEntry(session: session, options: options, identifier: identifier, shared: shared != nil)
        let existed = lock.withLock {
            tree.insert(filter: shared?.filter ?? filter, sharedGroup: shared?.group, entry: entry)
            return session.recordSubscription(filter, entry)
        }
        markDirty(session)
        return existed
    }

    func unsubscribe(_ session: Session, filter: String) -> Bool {
        let shared = try? MQTTTopic.sharedSubscription(filter)
        let existed = lock.withLock {
            guard session.forgetSubscription(filter) else { return false }
            tree.remove(filter: shared?.filter ?? filter, sharedGroup: shared?.group, session: session)
            return true
        }
        markDirty(session)
        return existed
    }

    private func removeAllSubscriptionsLocked(_ session: Session) {
        for (filter, _) in session.subscriptions {
            let shared = try? MQTTTopic.sharedSubscription(filter)
            tree.remove(filter: shared?.filter ?? filter, sharedGroup: shared?.group, session: session)
            _ = session.forgetSubscription(filter)
        }
    }

    var subscriptionCount: Int { lock.withLock { tree.count } }

    // MARK: Sessions

    /// Finds or creates the session for a CONNECT and attaches the new connection to it, detaching any
    /// connection it takes over (returned, for the caller to close). One step under the lock, so the old
    /// connection's close cannot end a session the new one is resuming.
    func openSession(
        clientID: String,
        cleanStart: Bool,
        identity: ClientIdentity,
        expiry: UInt32,
        link: Session.Link
    ) -> (session: Session, present: Bool, previous: MQTTConnectionHandler?) {
        let result: (session: Session, present: Bool, previous: MQTTConnectionHandler?) = lock.withLock {
            expiryTimers.removeValue(forKey: clientID)?.cancel()
            // A new connection to the session before the will delay passed cancels the will (MQTT-3.1.3-9).
            delayedWills.removeValue(forKey: clientID)?.cancel()
            identities[clientID] = identity
            var session: Session
            var present = false
            var previous: MQTTConnectionHandler?
            if let existing = sessions[clientID] {
                previous = existing.attachedHandler
                if let previous { existing.detach(previous) }
                if cleanStart {
                    removeAllSubscriptionsLocked(existing)
                    session = Session(clientID: clientID, core: self)
                    sessions[clientID] = session
                } else {
                    session = existing
                    present = true
                }
            } else {
                session = Session(clientID: clientID, core: self)
                sessions[clientID] = session
            }
            session.sessionExpiryInterval = expiry
            session.attach(link, cleanStart: cleanStart)
            return (session, present, previous)
        }
        dirtyLock.withLock {
            if expiry == 0 {
                deletedSessions.insert(clientID)
            } else {
                deletedSessions.remove(clientID)
                dirtySessions[ObjectIdentifier(result.session)] = result.session
            }
        }
        return result
    }

    /// A connection of `session` ended. `will` is published now, after `willDelay`, or when the session ends,
    /// whichever is first; a session with expiry 0 ends now.
    func connectionClosed(_ session: Session, will: Message?, willDelay: UInt32, willSource: MessageSource) {
        var publishNow: Message?
        lock.withLock {
            guard sessions[session.clientID] === session, !session.isConnected else {
                // Taken over: the session lives on in the new connection; a will without delay still goes now.
                if willDelay == 0 || sessions[session.clientID] !== session { publishNow = will }
                return
            }
            let expiry = session.sessionExpiryInterval
            if expiry == 0 {
                removeAllSubscriptionsLocked(session)
                sessions.removeValue(forKey: session.clientID)
                identities.removeValue(forKey: session.clientID)
                publishNow = will
                dirtyLock.withLock {
                    dirtySessions.removeValue(forKey: ObjectIdentifier(session))
                    deletedSessions.insert(session.clientID)
                }
                return
            }
            if let will {
                if willDelay == 0 {
                    publishNow = will
                } else {
                    let clientID = session.clientID
                    delayedWills[clientID] = timerLoop.scheduleTask(in: .seconds(Int64(min(willDelay, expiry)))) {
                        [weak self] in
                        guard let self else { return }
                        let due = self.lock.withLock { self.delayedWills.removeValue(forKey: clientID) != nil }
                        if due { self.route(will, from: willSource, publisher: nil) }
                    }
                }
            }
            scheduleExpiryLocked(session, after: expiry)
            dirtyLock.withLock { dirtySessions[ObjectIdentifier(session)] = session }
        }
        if let publishNow { route(publishNow, from: willSource, publisher: nil) }
    }

    private func scheduleExpiryLocked(_ session: Session, after seconds: UInt32) {
        guard seconds != UInt32.max else { return }
        let clientID = session.clientID
        expiryTimers[clientID] = timerLoop.scheduleTask(in: .seconds(Int64(seconds))) { [weak self, weak session] in
            guard let self, let session else { return }
            self.expire(session)
        }
    }

    private func expire(_ session: Session) {
        lock.withLock {
            guard sessions[session.clientID] === session, !session.isConnected else { return }
            expiryTimers.removeValue(forKey: session.clientID)
            removeAllSubscriptionsLocked(session)
            sessions.removeValue(forKey: session.clientID)
            identities.removeValue(forKey: session.clientID)
            dirtyLock.withLock {
                dirtySessions.removeValue(forKey: ObjectIdentifier(session))
                deletedSessions.insert(session.clientID)
            }
        }
        logger.debug("Session expired", metadata: ["mqtt.client_id": "\(session.clientID)"])
    }

    // MARK: Persistence

    func markDirty(_ session: Session) {
        dirtyLock.withLock { dirtySessions[ObjectIdentifier(session)] = session }
    }

    /// Collects what changed since the last call as persistence records.
    func takeChanges() -> BrokerStateChanges {
        let (dirty, deleted, topics) = dirtyLock.withLock {
            defer {
                dirtySessions.removeAll()
                deletedSessions.removeAll()
                dirtyRetained.removeAll()
            }
            return (Array(dirtySessions.values), deletedSessions, dirtyRetained)
        }
        var changes = BrokerStateChanges()
        for session in dirty where session.sessionExpiryInterval > 0 {
            changes.sessionUpserts.append(.init(key: session.clientID, bytes: session.snapshot().encoded()))
        }
        changes.sessionDeletions = Array(deleted)
        let current = lock.withLock { topics.map { ($0, retained[$0]) } }
        for (topic, message) in current {
            if let message {
                changes.retainedUpserts.append(.init(key: topic, bytes: SessionRecord.encodeRetained(message)))
            } else {
                changes.retainedDeletions.append(topic)
            }
        }
        return changes
    }

    /// Restores retained messages and offline sessions saved by an earlier run.
    func restore(_ state: PersistedBrokerState) {
        let nowMillis = wallClockMillis()
        var restoredRetained = 0
        for record in state.retainedMessages {
            guard let message = try? SessionRecord.decodeRetained(record.bytes) else {
                logger.warning("Skipping unreadable retained message record", metadata: ["mqtt.topic": "\(record.key)"])
                continue
            }
            if message.expiresAtWallMillis > 0 && message.expiresAtWallMillis <= nowMillis { continue }
            lock.withLock { retained[message.topic] = message }
            restoredRetained += 1
        }
        for record in state.sessions {
            guard let saved = try? SessionRecord.decode(record.bytes) else {
                logger.warning("Skipping unreadable session record", metadata: ["mqtt.client_id": "\(record.key)"])
                continue
            }
            let elapsed = saved.disconnectedAtMillis > 0 ? max(0, (nowMillis - saved.disconnectedAtMillis) / 1000) : 0
            if saved.expiryInterval != UInt32.max && elapsed >= Int64(saved.expiryInterval) {
                dirtyLock.withLock { _ = deletedSessions.insert(saved.clientID) }
                continue
            }
            let session = Session(clientID: saved.clientID, core: self)
            session.restore(from: saved)
            lock.withLock {
                sessions[saved.clientID] = session
                for subscription in saved.subscriptions {
                    let shared = try? MQTTTopic.sharedSubscription(subscription.filter)
                    let entry = SubscriptionEntry(
                        session: session,
                        options: subscription.options,
                        identifier: subscription.identifier,
                        shared: shared != nil
                    )
                    tree.insert(filter: shared?.filter ?? subscription.filter, sharedGroup: shared?.group, entry: entry)
                    _ = session.recordSubscription(subscription.filter, entry)
                }
                if saved.expiryInterval != UInt32.max {
                    scheduleExpiryLocked(session, after: UInt32(Int64(saved.expiryInterval) - elapsed))
                }
            }
        }
        logger.debug("Restored broker state", metadata: ["mqtt.retained": "\(restoredRetained)", "mqtt.sessions": "\(state.sessions.count)"])
    }
}
