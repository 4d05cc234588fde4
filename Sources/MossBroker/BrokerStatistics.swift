/// A listener as bound: `port` is the real port even when 0 was configured.
public struct BoundListener: Sendable, Hashable, Codable {
    public var name: String
    public var host: String
    public var port: Int
    public var tls: Bool

    public init(name: String, host: String, port: Int, tls: Bool) {
        self.name = name
        self.host = host
        self.port = port
        self.tls = tls
    }
}

/// One connected client, for `moss status`.
public struct ConnectedClient: Sendable, Hashable, Codable {
    public var clientID: String
    public var identity: String
    public var listener: String
    public var peer: String
    public var protocolVersion: String
    /// Seconds since 1970.
    public var connectedAt: Double

    public init(clientID: String, identity: String, listener: String, peer: String, protocolVersion: String, connectedAt: Double) {
        self.clientID = clientID
        self.identity = identity
        self.listener = listener
        self.peer = peer
        self.protocolVersion = protocolVersion
        self.connectedAt = connectedAt
    }
}

/// A snapshot of the broker for the admin API.
public struct BrokerStatistics: Sendable, Hashable, Codable {
    public var listeners: [BoundListener]
    public var clients: [ConnectedClient]
    /// Sessions known to the broker, connected or not.
    public var sessions: Int
    public var retainedMessages: Int
    /// PUBLISH packets received from clients and injected by endpoints.
    public var messagesReceived: UInt64
    /// PUBLISH packets written to clients.
    public var messagesSent: UInt64
    /// Messages dropped because a queue was full or a message expired (never silently: also logged).
    public var messagesDropped: UInt64

    public init(
        listeners: [BoundListener] = [],
        clients: [ConnectedClient] = [],
        sessions: Int = 0,
        retainedMessages: Int = 0,
        messagesReceived: UInt64 = 0,
        messagesSent: UInt64 = 0,
        messagesDropped: UInt64 = 0
    ) {
        self.listeners = listeners
        self.clients = clients
        self.sessions = sessions
        self.retainedMessages = retainedMessages
        self.messagesReceived = messagesReceived
        self.messagesSent = messagesSent
        self.messagesDropped = messagesDropped
    }
}
