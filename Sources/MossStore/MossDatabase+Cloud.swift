import Foundation
import GRDB

/// A message spooled for the cloud, as stored.
public struct SpoolRow: Sendable, Hashable {
    public var sequence: Int64
    public var topic: String
    public var payload: [UInt8]

    public init(sequence: Int64, topic: String, payload: [UInt8]) {
        self.sequence = sequence
        self.topic = topic
        self.payload = payload
    }
}

/// The shadow sync's memory of one shadow, as stored. `name` is nil for the classic shadow.
public struct ShadowSyncRow: Sendable, Hashable {
    public var thing: String
    public var name: String?
    /// JSON `{"desired":…,"reported":…}`, or nil when both sides agreed the shadow does not exist.
    public var synced: [UInt8]?
    public var localVersion: Int64?
    public var cloudVersion: Int64?
    public var syncedAt: Double

    public init(thing: String, name: String?, synced: [UInt8]?, localVersion: Int64?, cloudVersion: Int64?, syncedAt: Double) {
        self.thing = thing
        self.name = name
        self.synced = synced
        self.localVersion = localVersion
        self.cloudVersion = cloudVersion
        self.syncedAt = syncedAt
    }
}

extension MossDatabase {
    /// Every spooled message, oldest first.
    public func loadSpool() async throws -> [SpoolRow] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: "SELECT sequence, topic, payload FROM cloud_spool ORDER BY sequence").map { row in
                SpoolRow(sequence: row[0], topic: row[1], payload: Array(row[2] as Data))
            }
        }
    }

    /// Stores `appended` and deletes `removed` in one transaction.
    public func commitSpool(appended: [SpoolRow], removed: [Int64]) async throws {
        try await writer.write { db in
            if !appended.isEmpty {
                let insert = try db.cachedStatement(
                    sql: "INSERT OR REPLACE INTO cloud_spool (sequence, topic, payload) VALUES (?, ?, ?)"
                )
                for row in appended { try insert.execute(arguments: [row.sequence, row.topic, Data(row.payload)]) }
            }
            if !removed.isEmpty {
                let delete = try db.cachedStatement(sql: "DELETE FROM cloud_spool WHERE sequence = ?")
                for sequence in removed { try delete.execute(arguments: [sequence]) }
            }
        }
    }

    public func loadShadowSyncRows() async throws -> [ShadowSyncRow] {
        try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT thing, name, synced, local_version, cloud_version, synced_at FROM shadow_sync ORDER BY thing, name"
            ).map { row in
                let name: String = row[1]
                return ShadowSyncRow(
                    thing: row[0],
                    name: name.isEmpty ? nil : name,
                    synced: (row[2] as String?).map { Array($0.utf8) },
                    localVersion: row[3],
                    cloudVersion: row[4],
                    syncedAt: row[5]
                )
            }
        }
    }

    public func saveShadowSyncRow(_ row: ShadowSyncRow) async throws {
        try await writer.write { db in
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO shadow_sync (thing, name, synced, local_version, cloud_version, synced_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    row.thing, row.name ?? "", row.synced.map { String(decoding: $0, as: UTF8.self) }, row.localVersion,
                    row.cloudVersion, row.syncedAt,
                ]
            )
        }
    }
}
