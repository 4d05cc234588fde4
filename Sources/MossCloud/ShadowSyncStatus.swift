/// What `moss status` shows of one synced shadow.
public struct ShadowSyncStatus: Sendable, Hashable, Codable {
    public enum State: String, Sendable, Hashable, Codable {
        /// Not compared with the cloud yet since start (or since it was added).
        case pending
        case synced
        /// The last attempt failed; retried with backoff, and after every reconnect.
        case retrying
    }

    public var thing: String
    /// nil for the classic shadow.
    public var name: String?
    public var direction: ShadowSyncDirection
    public var state: State
    public var localVersion: Int64?
    public var cloudVersion: Int64?
    /// Seconds since 1970 of the last completed sync.
    public var syncedAt: Double?
    public var lastError: String?

    public init(
        thing: String,
        name: String?,
        direction: ShadowSyncDirection,
        state: State,
        localVersion: Int64?,
        cloudVersion: Int64?,
        syncedAt: Double?,
        lastError: String?
    ) {
        self.thing = thing
        self.name = name
        self.direction = direction
        self.state = state
        self.localVersion = localVersion
        self.cloudVersion = cloudVersion
        self.syncedAt = syncedAt
        self.lastError = lastError
    }
}
