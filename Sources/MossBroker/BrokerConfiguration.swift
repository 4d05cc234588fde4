/// Everything the broker needs to know about its listeners and limits. Every value has a safe default.
public struct BrokerConfiguration: Sendable, Hashable {
    /// The sockets to accept MQTT connections on.
    public var listeners: [ListenerConfiguration]
    /// Resource limits that keep one client from exhausting the gateway.
    public var limits: BrokerLimits
    /// Subscriptions overlapping any of these filters are refused (SUBACK 0x80 / v5 0x87).
    public var deniedSubscriptionFilters: [String]
    /// How often retained messages and sessions are written behind to persistence.
    public var persistenceInterval: Duration

    public init(
        listeners: [ListenerConfiguration] = [.init(name: "mqtt", host: "127.0.0.1", port: 1883)],
        limits: BrokerLimits = .init(),
        deniedSubscriptionFilters: [String] = [],
        persistenceInterval: Duration = .seconds(1)
    ) {
        self.listeners = listeners
        self.limits = limits
        self.deniedSubscriptionFilters = deniedSubscriptionFilters
        self.persistenceInterval = persistenceInterval
    }
}

/// One listening socket: plain TCP, or TLS when `tls` is set.
public struct ListenerConfiguration: Sendable, Hashable {
    public var name: String
    public var host: String
    /// 0 binds any free port; the bound port is reported by ``MQTTBroker/boundListeners()``.
    public var port: Int
    public var tls: MutualTLSConfiguration?

    public init(name: String, host: String, port: Int, tls: MutualTLSConfiguration? = nil) {
        self.name = name
        self.host = host
        self.port = port
        self.tls = tls
    }
}

/// TLS for a listener: the server's certificate and key, and the CA that signs client certificates.
public struct MutualTLSConfiguration: Sendable, Hashable {
    /// PEM file with the server certificate (and any intermediates).
    public var certificateChainPath: String
    /// PEM file with the server's private key.
    public var privateKeyPath: String
    /// PEM file with the CA certificates trusted to sign client certificates.
    public var trustedCAPath: String
    /// When true (the default) a client without a certificate signed by the trusted CA is refused.
    public var requireClientCertificate: Bool
    /// SHA-256 fingerprints (lowercase hex, no separators) of client certificates mapped to thing names;
    /// a mapped certificate's identity is its thing name instead of its subject CN.
    public var thingsByFingerprint: [String: String]

    public init(
        certificateChainPath: String,
        privateKeyPath: String,
        trustedCAPath: String,
        requireClientCertificate: Bool = true,
        thingsByFingerprint: [String: String] = [:]
    ) {
        self.certificateChainPath = certificateChainPath
        self.privateKeyPath = privateKeyPath
        self.trustedCAPath = trustedCAPath
        self.requireClientCertificate = requireClientCertificate
        self.thingsByFingerprint = thingsByFingerprint
    }
}

/// Per-broker and per-client bounds. Defaults follow mosquitto where it has one and AWS IoT for packet size.
public struct BrokerLimits: Sendable, Hashable {
    /// Open connections across all listeners; more are closed at accept.
    public var maximumConnections: Int
    /// Outbound QoS 1/2 messages awaiting acknowledgement per client; also the Receive Maximum we advertise.
    public var maximumInflightMessages: Int
    /// Messages queued per client behind the in-flight window (or while a persistent session is offline).
    public var maximumQueuedMessages: Int
    /// Largest packet accepted or sent, in bytes (AWS IoT's 128 KiB by default).
    public var maximumPacketSize: Int
    /// A socket that has not completed CONNECT by then is closed.
    public var connectTimeout: Duration
    /// Largest keep-alive accepted, seconds. v5 clients asking more are told Server Keep Alive;
    /// 3.1.1 clients asking more (or 0) are refused, as mosquitto does.
    public var maximumKeepAlive: UInt16
    /// Longest session expiry granted, seconds; also the expiry of 3.1.1 persistent sessions.
    public var maximumSessionExpiry: UInt32
    /// Topic aliases a v5 client may use towards the broker.
    public var topicAliasMaximum: UInt16
    /// Retained messages kept; a new retained topic beyond this is not stored (counted and logged).
    public var maximumRetainedMessages: Int
    /// Whether QoS 0 messages are queued for offline persistent sessions.
    public var queueQoS0WhileOffline: Bool

    public init(
        maximumConnections: Int = 10_000,
        maximumInflightMessages: Int = 20,
        maximumQueuedMessages: Int = 1000,
        maximumPacketSize: Int = 128 * 1024,
        connectTimeout: Duration = .seconds(10),
        maximumKeepAlive: UInt16 = 65_535,
        maximumSessionExpiry: UInt32 = 7 * 24 * 3600,
        topicAliasMaximum: UInt16 = 10,
        maximumRetainedMessages: Int = 100_000,
        queueQoS0WhileOffline: Bool = false
    ) {
        self.maximumConnections = maximumConnections
        self.maximumInflightMessages = maximumInflightMessages
        self.maximumQueuedMessages = maximumQueuedMessages
        self.maximumPacketSize = maximumPacketSize
        self.connectTimeout = connectTimeout
        self.maximumKeepAlive = maximumKeepAlive
        self.maximumSessionExpiry = maximumSessionExpiry
        self.topicAliasMaximum = topicAliasMaximum
        self.maximumRetainedMessages = maximumRetainedMessages
        self.queueQoS0WhileOffline = queueQoS0WhileOffline
    }
}
