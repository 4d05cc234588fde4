/// A message waiting for the cloud (published there at QoS 1), numbered in the order it was spooled.
public struct SpooledMessage: Sendable, Hashable {
    /// Position in the spool; increases by one per message, across restarts (FileSystem storage).
    public var sequence: Int64
    public var topic: String
    public var payload: [UInt8]

    public init(sequence: Int64, topic: String, payload: [UInt8]) {
        self.sequence = sequence
        self.topic = topic
        self.payload = payload
    }

    /// What the size bound counts: topic and payload bytes (V1 counted the message; headers are noise).
    public var size: Int { topic.utf8.count + payload.count }
}

/// Where spooled messages survive: V1's `FileSystem` storage (the database, so a restart delivers them) or `Memory`.
///
/// The spooler calls it from one task at a time, with batches: everything appended and removed since the last call
/// goes in one transaction.
public protocol SpoolStorage: Sendable {
    /// Every stored message, oldest first (at start).
    func load() async throws -> [SpooledMessage]
    /// Stores `appended` and forgets `removed` (delivered or dropped) in one transaction.
    func commit(appended: [SpooledMessage], removed: [Int64]) async throws
}

/// V1's `Memory` storage: nothing survives a restart.
public struct MemorySpoolStorage: SpoolStorage {
    public init() {}
    public func load() async throws -> [SpooledMessage] { [] }
    public func commit(appended: [SpooledMessage], removed: [Int64]) async throws {}
}
