/// Where the broker keeps retained messages and persistent sessions across restarts.
///
/// The broker writes behind: it batches changes and hands them over every
/// ``BrokerConfiguration/persistenceInterval`` and on a clean stop (as mosquitto's autosave does).
/// Records are opaque bytes the broker encodes itself, so a store needs no MQTT knowledge.
public protocol BrokerPersistence: Sendable {
    /// Everything saved so far, read once at start.
    func loadBrokerState() async throws -> PersistedBrokerState
    /// Applies one batch of changes atomically.
    func saveBrokerChanges(_ changes: BrokerStateChanges) async throws
}

/// A retained message or a session, as an opaque record keyed by topic or client id.
public struct PersistedRecord: Sendable, Hashable {
    public var key: String
    public var bytes: [UInt8]

    public init(key: String, bytes: [UInt8]) {
        self.key = key
        self.bytes = bytes
    }
}

/// The broker's durable state as loaded at start.
public struct PersistedBrokerState: Sendable, Hashable {
    public var retainedMessages: [PersistedRecord]
    public var sessions: [PersistedRecord]

    public init(retainedMessages: [PersistedRecord] = [], sessions: [PersistedRecord] = []) {
        self.retainedMessages = retainedMessages
        self.sessions = sessions
    }
}

/// One write-behind batch: upserts and deletions of retained messages (by topic) and sessions (by client id).
public struct BrokerStateChanges: Sendable, Hashable {
    public var retainedUpserts: [PersistedRecord]
    public var retainedDeletions: [String]
    public var sessionUpserts: [PersistedRecord]
    public var sessionDeletions: [String]

    public init(
        retainedUpserts: [PersistedRecord] = [],
        retainedDeletions: [String] = [],
        sessionUpserts: [PersistedRecord] = [],
        sessionDeletions: [String] = []
    ) {
        self.retainedUpserts = retainedUpserts
        self.retainedDeletions = retainedDeletions
        self.sessionUpserts = sessionUpserts
        self.sessionDeletions = sessionDeletions
    }

    public var isEmpty: Bool {
        retainedUpserts.isEmpty && retainedDeletions.isEmpty && sessionUpserts.isEmpty && sessionDeletions.isEmpty
    }
}
