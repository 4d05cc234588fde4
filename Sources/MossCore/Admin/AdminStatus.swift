public import MossBroker
public import MossCloud
public import MossShadow

/// The reply of `GET /v1/status`, shared by the daemon and `moss status`.
public struct AdminStatus: Codable, Sendable, Hashable {
    public var version: String
    /// Seconds since the daemon started.
    public var uptimeSeconds: Double
    public var dataDirectory: String
    public var listeners: [Listener]
    public var clients: [Client]
    /// Sessions the broker knows, connected or not.
    public var sessions: Int
    public var retainedMessages: Int
    public var messages: MessageCounters
    /// The shadow service's counters; absent from daemons that have none.
    public var shadows: ShadowCounters?
    /// The deployed group; absent when none is (an ordinary broker).
    public var group: DeployedGroupSummary?
    /// Connected clients that are devices of the deployed group.
    public var groupDevicesConnected: Int?
    /// Router counters: connections, publishes and subscriptions the group refused; messages routed to a function
    /// or the cloud that nothing could take yet.
    public var routing: RoutingCounters?
    /// The cloud connection, spool and shadow sync; absent when no cloud is configured.
    public var cloud: Cloud?
    /// The deployed functions and their workers' states; absent when no group is deployed.
    public var functions: [Function]?
    /// The deployed group's pipelines; absent when no group is deployed.
    public var pipelines: [PipelineStatus]?

    /// A deployed function and the V1 health states of its workers (`NotStarted` when it has none).
    public struct Function: Codable, Sendable, Hashable {
        public var name: String
        public var arn: String
        public var workers: [String]

        public init(name: String, arn: String, workers: [String]) {
            self.name = name
            self.arn = arn
            self.workers = workers
        }
    }

    /// What `moss status` shows of the cloud.
    public struct Cloud: Codable, Sendable, Hashable {
        public var connection: CloudConnectionStatus
        public var spool: CloudSpooler.Statistics
        public var shadowSync: [ShadowSyncStatus]
        /// Why shadow sync is off (no AWS credentials), when it is.
        public var shadowSyncProblem: String?

        public init(
            connection: CloudConnectionStatus,
            spool: CloudSpooler.Statistics,
            shadowSync: [ShadowSyncStatus],
            shadowSyncProblem: String?
        ) {
            self.connection = connection
            self.spool = spool
            self.shadowSync = shadowSync
            self.shadowSyncProblem = shadowSyncProblem
        }
    }

    public struct RoutingCounters: Codable, Sendable, Hashable {
        public var refused: UInt64
        public var undeliverable: UInt64

        public init(refused: UInt64, undeliverable: UInt64) {
            self.refused = refused
            self.undeliverable = undeliverable
        }
    }

    /// A bound MQTT listener. The admin API's own type, so its JSON stays stable while the broker evolves.
    public struct Listener: Codable, Sendable, Hashable {
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

    /// A connected MQTT client.
    public struct Client: Codable, Sendable, Hashable {
        public var clientID: String
        /// The name authorization uses: certificate CN (or mapped thing) on TLS, the client id on plain MQTT.
        public var identity: String
        public var listener: String
        public var peer: String
        public var protocolVersion: String
        /// Seconds since 1970.
        public var connectedAt: Double

        public init(
            clientID: String,
            identity: String,
            listener: String,
            peer: String,
            protocolVersion: String,
            connectedAt: Double
        ) {
            self.clientID = clientID
            self.identity = identity
            self.listener = listener
            self.peer = peer
            self.protocolVersion = protocolVersion
            self.connectedAt = connectedAt
        }
    }

    /// PUBLISH counters since start.
    public struct MessageCounters: Codable, Sendable, Hashable {
        public var received: UInt64
        public var sent: UInt64
        public var dropped: UInt64

        public init(received: UInt64, sent: UInt64, dropped: UInt64) {
            self.received = received
            self.sent = sent
            self.dropped = dropped
        }
    }

    /// Shadow requests applied, transactions committed (requests per commit is the group-commit factor),
    /// transactions that failed, and requests refused before queueing (rate limits, full queue).
    public struct ShadowCounters: Codable, Sendable, Hashable {
        public var requests: UInt64
        public var commits: UInt64
        public var failedCommits: UInt64
        public var refusedRequests: UInt64

        public init(_ statistics: ShadowStatistics) {
            self.requests = statistics.requests
            self.commits = statistics.commits
            self.failedCommits = statistics.failedCommits
            self.refusedRequests = statistics.refusedRequests
        }
    }

    public init(
        version: String,
        uptimeSeconds: Double,
        dataDirectory: String,
        statistics: BrokerStatistics,
        shadows: ShadowStatistics? = nil,
        group: DeployedGroupSummary? = nil,
        groupDevices: Set<String> = [],
        routing: RoutingCounters? = nil,
        cloud: Cloud? = nil
    ) {
        self.cloud = cloud
        self.routing = routing
        self.shadows = shadows.map(ShadowCounters.init)
        self.group = group
        self.groupDevicesConnected = group.map { _ in statistics.clients.filter { groupDevices.contains($0.identity) }.count }
        self.version = version
        self.uptimeSeconds = uptimeSeconds
        self.dataDirectory = dataDirectory
        self.listeners = statistics.listeners.map { Listener(name: $0.name, host: $0.host, port: $0.port, tls: $0.tls) }
        self.clients = statistics.clients.map {
            Client(
                clientID: $0.clientID,
                identity: $0.identity,
                listener: $0.listener,
                peer: $0.peer,
                protocolVersion: $0.protocolVersion,
                connectedAt: $0.connectedAt
            )
        }
        self.sessions = statistics.sessions
        self.retainedMessages = statistics.retainedMessages
        self.messages = .init(
            received: statistics.messagesReceived,
            sent: statistics.messagesSent,
            dropped: statistics.messagesDropped
        )
    }
}
