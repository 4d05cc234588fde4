public import MossMQTT
public import NIOCore

/// Who a connected client is, as the broker established it.
public struct ClientIdentity: Sendable, Hashable {
    /// The MQTT client identifier (assigned by the broker when the client sent none).
    public var clientID: String
    /// The name authorization uses: the certificate's subject CN or mapped thing name on TLS, the client id on plain.
    public var identity: String
    /// The name of the listener the client connected to.
    public var listener: String
    /// SHA-256 of the client's certificate (lowercase hex) on TLS listeners.
    public var certificateFingerprint: String?
    public var protocolVersion: MQTTProtocolVersion

    public init(
        clientID: String,
        identity: String,
        listener: String,
        certificateFingerprint: String? = nil,
        protocolVersion: MQTTProtocolVersion
    ) {
        self.clientID = clientID
        self.identity = identity
        self.listener = listener
        self.certificateFingerprint = certificateFingerprint
        self.protocolVersion = protocolVersion
    }
}

/// Where a message entered the broker: an MQTT client, or a non-MQTT endpoint (a function, the shadow service, the cloud).
public enum MessageSource: Sendable, Hashable {
    case client(ClientIdentity)
    case endpoint(String)
}

/// An application message as it crosses the broker's boundary to or from non-MQTT endpoints.
public struct BrokerMessage: Sendable, Hashable {
    public var topic: String
    public var payload: ByteBuffer
    public var qos: MQTTQoS
    public var retain: Bool
    /// v5 properties that travel with the message (user properties, response topic, correlation data, …).
    public var properties: MQTTProperties

    public init(
        topic: String,
        payload: ByteBuffer,
        qos: MQTTQoS = .atMostOnce,
        retain: Bool = false,
        properties: MQTTProperties = .init()
    ) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.properties = properties
    }
}

/// The seam between the broker and whatever decides who may do what (ARCHITECTURE.md, "Broker and router").
///
/// Every method is called on the connection's event loop and must not block.
public protocol BrokerInterceptor: Sendable {
    /// Whether a client that completed CONNECT (and TLS, where configured) may stay connected.
    func authorizeConnection(_ client: ClientIdentity) -> Bool
    /// Whether `client` may subscribe to `filter`.
    func authorizeSubscription(_ filter: String, for client: ClientIdentity) -> Bool
    /// Whether `client` may publish on `topic`. A refused QoS 1/2 publish is acknowledged with 0x87 (v5).
    func authorizePublish(_ topic: String, from client: ClientIdentity) -> Bool
    /// Whether ``mayDeliver(topic:from:to:)`` must be asked for each recipient (false skips it on the hot path).
    var filtersDeliveries: Bool { get }
    /// Whether a message on `topic` from `source` may reach the MQTT subscriber `client`.
    func mayDeliver(topic: String, from source: MessageSource, to client: ClientIdentity) -> Bool
    /// Whether ``publishAccepted(_:from:)`` wants to be called (skipped on the hot path when false).
    var observesAcceptedPublishes: Bool { get }
    /// A publish accepted from an MQTT client, offered to the non-MQTT endpoints.
    func publishAccepted(_ message: BrokerMessage, from client: ClientIdentity)
    /// The same for a QoS 1 or 2 publish whose acknowledgement (PUBACK, PUBREC) waits until `acknowledge` is called:
    /// an endpoint that stores messages (the cloud's spool) calls it once the message is on disk, so what a client
    /// saw acknowledged survives a crash. It may be called on any thread, once. The default offers the message and
    /// acknowledges at once.
    func publishAccepted(_ message: BrokerMessage, from client: ClientIdentity, acknowledge: @escaping @Sendable () -> Void)
    /// The thing a TLS client certificate (SHA-256 of its DER, lowercase hex) stands for, when the deployed group
    /// names it; asked before the listener's own map and the certificate's CN.
    func thing(forCertificateFingerprint fingerprint: String) -> String?
}

extension BrokerInterceptor {
    public func thing(forCertificateFingerprint fingerprint: String) -> String? { nil }

    public func publishAccepted(
        _ message: BrokerMessage,
        from client: ClientIdentity,
        acknowledge: @escaping @Sendable () -> Void
    ) {
        publishAccepted(message, from: client)
        acknowledge()
    }
}

/// What a broker with no group deployed does: allow everything except the configured denied subscription filters.
public struct DefaultBrokerInterceptor: BrokerInterceptor {
    public let deniedSubscriptionFilters: [String]

    public init(deniedSubscriptionFilters: [String] = []) {
        self.deniedSubscriptionFilters = deniedSubscriptionFilters
    }

    public func authorizeConnection(_ client: ClientIdentity) -> Bool { true }

    public func authorizeSubscription(_ filter: String, for client: ClientIdentity) -> Bool {
        // A shared subscription receives the messages of its inner filter, so that is what is checked.
        let effective = (try? MQTTTopic.sharedSubscription(filter))?.filter ?? filter
        return !deniedSubscriptionFilters.contains { MQTTTopic.filtersOverlap($0, effective) }
    }

    public func authorizePublish(_ topic: String, from client: ClientIdentity) -> Bool { true }

    public var filtersDeliveries: Bool { false }

    public func mayDeliver(topic: String, from source: MessageSource, to client: ClientIdentity) -> Bool { true }

    public var observesAcceptedPublishes: Bool { false }

    public func publishAccepted(_ message: BrokerMessage, from client: ClientIdentity) {}
}
