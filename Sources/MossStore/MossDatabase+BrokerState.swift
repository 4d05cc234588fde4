import Foundation
import GRDB

/// A retained message or a broker session as stored: a key (topic or client id) and the broker's own bytes.
public struct StoredRecord: Sendable, Hashable {
    public var key: String
    public var bytes: [UInt8]

    public init(key: String, bytes: [UInt8]) {
        self.key = key
        self.bytes = bytes
    }
}

/// Everything the broker saved, as read at start.
public struct StoredBrokerState: Sendable, Hashable {
    public var retainedMessages: [StoredRecord]
    public var sessions: [StoredRecord]

    public init(retainedMessages: [StoredRecord] = [], sessions: [StoredRecord] = []) {
        self.retainedMessages = retainedMessages
        self.sessions = sessions
    }
}

/// One batch of broker changes. A key appears at most once per batch (the broker coalesces);
/// deletions are applied before upserts.
public struct BrokerStateBatch: Sendable, Hashable {
    public var retainedUpserts: [StoredRecord]
    public var retainedDeletions: [String]
    public var sessionUpserts: [StoredRecord]
    public var sessionDeletions: [String]

    public init(
        retainedUpserts: [StoredRecord] = [],
        retainedDeletions: [String] = [],
        sessionUpserts: [StoredRecord] = [],
        sessionDeletions: [String] = []
    ) {
        self.retainedUpserts = retainedUpserts
        self.retainedDeletions = retainedDeletions
        self.sessionUpserts = sessionUpserts
        self.sessionDeletions = sessionDeletions
    }
}

extension MossDatabase {
    /// Reads every retained message (ordered by topic) and session (ordered by client id).
    public func loadBrokerState() async throws -> StoredBrokerState {
        try await writer.read { db in
            StoredBrokerState(
                retainedMessages: try Self.fetchRecords(
                    db,
                    sql: "SELECT topic, record FROM retained_message ORDER BY topic"
                ),
                sessions: try Self.fetchRecords(
                    db,
                    sql: "SELECT client_id, record FROM broker_session ORDER BY client_id"
                )
            )
        }
    }

    /// Applies `batch` in one transaction: either all of it is on disk when this returns, or none of it.
    public func applyBrokerBatch(_ batch: BrokerStateBatch) async throws {
        try await writer.write { db in
            try Self.delete(db, table: "retained_message", keyColumn: "topic", keys: batch.retainedDeletions)
            try Self.delete(db, table: "broker_session", keyColumn: "client_id", keys: batch.sessionDeletions)
            try Self.upsert(db, table: "retained_message", keyColumn: "topic", records: batch.retainedUpserts)
            try Self.upsert(db, table: "broker_session", keyColumn: "client_id", records: batch.sessionUpserts)
        }
    }

    private static func fetchRecords(_ db: Database, sql: String) throws -> [StoredRecord] {
        try Row.fetchAll(db, sql: sql).map { row in
            let data: Data = row[1]
            return StoredRecord(key: row[0], bytes: Array(data))
        }
    }

    // Table and column names are constants of this file, never input, so interpolating them is safe.
    private static func delete(_ db: Database, table: String, keyColumn: String, keys: [String]) throws {
        guard !keys.isEmpty else { return }
        let statement = try db.cachedStatement(sql: "DELETE FROM \(table) WHERE \(keyColumn) = ?")
        for key in keys {
            try statement.execute(arguments: [key])
        }
    }

    private static func upsert(_ db: Database, table: String, keyColumn: String, records: [StoredRecord]) throws {
        guard !records.isEmpty else { return }
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO \(table) (\(keyColumn), record) VALUES (?, ?)
                ON CONFLICT(\(keyColumn)) DO UPDATE SET record = excluded.record
                """
        )
        for record in records {
            try statement.execute(arguments: [record.key, Data(record.bytes)])
        }
    }
}
