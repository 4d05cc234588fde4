public import Logging
public import MossBroker
import MossMQTT
import Synchronization

/// The broker's interceptor from the deployed group's subscription table (ARCHITECTURE.md, "Broker and router").
///
/// With no group deployed it is an ordinary broker (everything allowed but the core configuration's denied
/// filters). With a group: only the group's devices connect; a device publishes only where it is a route's source
/// and subscribes only where it is a route's target; each delivery needs a route from the message's source to
/// the receiving device. The table is swapped atomically on deploy and reset.
public final class RoutingInterceptor: BrokerInterceptor, Sendable {
    /// What every message from a non-MQTT endpoint is injected as (MQTTBroker.inject's `from:`).
    public static func endpointName(_ endpoint: RouteEndpoint) -> String { endpoint.description }

    private let fallback: DefaultBrokerInterceptor
    private let table = Mutex<RoutingTable?>(nil)
    private let logger: Logger
    private let refusals = Atomic<UInt64>(0)
    private let undeliverable = Atomic<UInt64>(0)
    /// A handler calls its third argument once it has the message (stored, for the cloud's spool).
    private let endpoints: Mutex<[String: @Sendable (BrokerMessage, RouteEndpoint, @escaping @Sendable () -> Void) -> Void]> =
        Mutex([:])

    public init(deniedSubscriptionFilters: [String] = [], logger: Logger) {
        self.fallback = DefaultBrokerInterceptor(deniedSubscriptionFilters: deniedSubscriptionFilters)
        self.logger = logger
    }

    /// Registers who receives messages routed to functions (`"function"`), pipelines (`"pipeline"`) or the cloud
    /// (`"cloud"`). Without a handler (no cloud configured) such messages are dropped, counted and logged.
    public func handleEndpoints(of kind: String, with handler: @escaping @Sendable (BrokerMessage, RouteEndpoint) -> Void) {
        endpoints.withLock {
            $0[kind] = { message, target, taken in
                handler(message, target)
                taken()
            }
        }
    }

    /// Registers a handler that calls its third argument once it has stored the message; a device's QoS 1/2
    /// publish routed there is acknowledged only then.
    public func handleStoringEndpoints(
        of kind: String,
        with handler: @escaping @Sendable (BrokerMessage, RouteEndpoint, @escaping @Sendable () -> Void) -> Void
    ) {
        endpoints.withLock { $0[kind] = handler }
    }

    /// Messages routed to a function or the cloud that nothing could take (no cloud configured).
    public var undeliverableCount: UInt64 { undeliverable.load(ordering: .relaxed) }

    /// Puts a group's table into effect for every later decision; nil returns to the ordinary broker.
    public func install(_ newTable: RoutingTable?) {
        table.withLock { $0 = newTable }
    }

    public var current: RoutingTable? { table.withLock { $0 } }

    /// Publishes, subscriptions and connections refused by the table since start.
    public var refusedCount: UInt64 { refusals.load(ordering: .relaxed) }

    /// Whether a message from `source` on `topic` may reach the non-MQTT endpoint `target` (the shadow service, a
    /// function, the cloud). Always true with no group deployed.
    public func reaches(_ target: RouteEndpoint, topic: String, from source: RouteEndpoint) -> Bool {
        guard let table = current else { return true }
        return table.allows(source, topic: topic, to: target)
    }

    /// The endpoint a broker message source stands for in the table.
    public static func endpoint(of source: MessageSource) -> RouteEndpoint {
        switch source {
        case .client(let identity): .device(identity.identity)
        case .endpoint(let name): endpoint(named: name)
        }
    }

    static func endpoint(named name: String) -> RouteEndpoint {
        if name == "cloud" { return .cloud }
        if name == "GGShadowService" { return .shadow }
        if name.hasPrefix("function:") { return .function(String(name.dropFirst("function:".count))) }
        if name.hasPrefix("pipeline:") { return .pipeline(String(name.dropFirst("pipeline:".count))) }
        return .device(name.hasPrefix("device:") ? String(name.dropFirst("device:".count)) : name)
    }

    // MARK: BrokerInterceptor

    public func authorizeConnection(_ client: ClientIdentity) -> Bool {
        guard let table = current else { return fallback.authorizeConnection(client) }
        guard table.devices.contains(client.identity) else {
            refuse("connection", client: client, detail: "not a device of the deployed group")
            return false
        }
        return true
    }

    public func authorizeSubscription(_ filter: String, for client: ClientIdentity) -> Bool {
        guard fallback.authorizeSubscription(filter, for: client) else { return false }
        guard let table = current else { return true }
        let effective = (try? MQTTTopic.sharedSubscription(filter))?.filter ?? filter
        guard table.maySubscribe(.device(client.identity), filter: effective) else {
            refuse("subscription", client: client, detail: filter)
            return false
        }
        return true
    }

    public func authorizePublish(_ topic: String, from client: ClientIdentity) -> Bool {
        guard let table = current else { return fallback.authorizePublish(topic, from: client) }
        guard table.mayPublish(.device(client.identity), topic: topic) else {
            refuse("publish", client: client, detail: topic)
            return false
        }
        return true
    }

    public func thing(forCertificateFingerprint fingerprint: String) -> String? {
        current?.thingsByFingerprint[fingerprint]
    }

    public var filtersDeliveries: Bool { current != nil }

    public func mayDeliver(topic: String, from source: MessageSource, to client: ClientIdentity) -> Bool {
        guard let table = current else { return true }
        return table.allows(Self.endpoint(of: source), topic: topic, to: .device(client.identity))
    }

    public var observesAcceptedPublishes: Bool { current?.hasEndpointTargets ?? false }

    /// Offers a device's message to the functions and the cloud its routes lead to.
    public func publishAccepted(_ message: BrokerMessage, from client: ClientIdentity) {
        publishAccepted(message, from: client) {}
    }

    /// Offers a device's message to its routes' functions and cloud; `acknowledge` runs once every one has it.
    public func publishAccepted(
        _ message: BrokerMessage,
        from client: ClientIdentity,
        acknowledge: @escaping @Sendable () -> Void
    ) {
        guard let table = current, table.hasEndpointTargets else { return acknowledge() }
        let targets = table.targets(of: .device(client.identity), topic: message.topic).filter { target in
            switch target {
            case .function, .cloud, .pipeline: true
            case .device, .shadow: false
            }
        }
        guard !targets.isEmpty else { return acknowledge() }
        let countdown = Countdown(targets.count, then: acknowledge)
        for target in targets {
            offer(message, to: target) { countdown.done() }
        }
    }

    /// Hands a message to the function or cloud handler registered for `target`; without one it is dropped, counted
    /// and logged. Devices and the shadow service are not offered here (the broker and its interceptor reach them).
    /// `taken` runs once the handler has the message (at once when there is none).
    public func offer(_ message: BrokerMessage, to target: RouteEndpoint, taken: @escaping @Sendable () -> Void = {}) {
        let kind: String
        switch target {
        case .function: kind = "function"
        case .cloud: kind = "cloud"
        case .pipeline: kind = "pipeline"
        case .device, .shadow: return taken()
        }
        if let handler = endpoints.withLock({ $0[kind] }) {
            handler(message, target, taken)
            return
        }
        defer { taken() }
        let count = undeliverable.add(1, ordering: .relaxed).newValue
        // The first, then every 1000th: a busy sensor must not flood the log.
        if count % 1000 == 1 {
            logger.warning(
                "Dropped a message routed to an endpoint Moss cannot reach",
                metadata: [
                    "routing.target": "\(target)", "mqtt.topic": "\(message.topic)",
                    "routing.undeliverable": "\(count)",
                ]
            )
        }
    }

    private func refuse(_ what: String, client: ClientIdentity, detail: String) {
        refusals.add(1, ordering: .relaxed)
        logger.info(
            "Refused by the group's subscriptions",
            metadata: [
                "routing.refused": "\(what)", "routing.detail": "\(detail)", "mqtt.client_id": "\(client.clientID)",
                "mqtt.identity": "\(client.identity)",
            ]
        )
    }
}

/// Runs its action when `done()` has been called `count` times.
private final class Countdown: Sendable {
    private let remaining: Atomic<Int>
    private let action: @Sendable () -> Void

    init(_ count: Int, then action: @escaping @Sendable () -> Void) {
        self.remaining = Atomic(count)
        self.action = action
    }

    func done() {
        if remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 { action() }
    }
}
