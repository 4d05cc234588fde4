/// What `moss status` shows of the cloud connection.
public struct CloudConnectionStatus: Sendable, Hashable, Codable {
    public enum State: String, Sendable, Hashable, Codable {
        /// No client id yet: neither configured nor a deployed group's core thing.
        case waitingForClientID
        case connecting
        case connected
        /// Lost or refused; retrying after a backoff.
        case disconnected
    }

    public var state: State
    public var endpoint: String
    public var clientID: String?
    /// Seconds since 1970 of the last change of `state`.
    public var since: Double
    /// Successful connections since start.
    public var connections: UInt64
    /// Why the last connection ended or failed.
    public var lastError: String?
    /// Filters subscribed at the cloud.
    public var subscriptions: Int

    public init(
        state: State,
        endpoint: String,
        clientID: String?,
        since: Double,
        connections: UInt64,
        lastError: String?,
        subscriptions: Int
    ) {
        self.state = state
        self.endpoint = endpoint
        self.clientID = clientID
        self.since = since
        self.connections = connections
        self.lastError = lastError
        self.subscriptions = subscriptions
    }
}
