import Foundation
import GRDB

/// A shadow row: `name` is nil for the classic shadow; `state` and `metadata` are nil once deleted.
public struct ShadowRow: Sendable, Hashable {
    public var thing: String
    public var name: String?
    public var version: Int64
    public var state: [UInt8]?
    public var metadata: [UInt8]?
    public var deletedAt: Int64?
    public var updatedAt: Int64

    public init(
        thing: String,
        name: String?,
        version: Int64,
        state: [UInt8]?,
        metadata: [UInt8]?,
        deletedAt: Int64?,
        updatedAt: Int64
    ) {
        self.thing = thing
        self.name = name
        self.version = version
        self.state = state
        self.metadata = metadata
        self.deletedAt = deletedAt
        self.updatedAt = updatedAt
    }
}

extension MossDatabase {
    /// The row of one shadow, live or deleted.
    public func loadShadow(thing: String, name: String?) async throws -> ShadowRow? {
        try await writer.read { db in
            try Row.fetchOne(
                db,
                sql: "SELECT version, state, metadata, deleted_at, updated_at FROM shadow WHERE thing = ? AND name = ?",
                arguments: [thing, name ?? ""]
            ).map { row in
                ShadowRow(
                    thing: thing,
                    name: name,
                    version: row[0],
                    state: (row[1] as String?).map { Array($0.utf8) },
                    metadata: (row[2] as String?).map { Array($0.utf8) },
                    deletedAt: row[3],
                    updatedAt: row[4]
                )
            }
        }
    }

    /// Writes `rows` in one transaction (upserts): when this returns they are all on disk, or none is.
    public func commitShadows(_ rows: [ShadowRow]) async throws {
        try await writer.write { db in
            let statement = try db.cachedStatement(
                sql: """
                    INSERT INTO shadow (thing, name, version, state, metadata, deleted_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(thing, name) DO UPDATE SET
                        version = excluded.version, state = excluded.state, metadata = excluded.metadata,
                        deleted_at = excluded.deleted_at, updated_at = excluded.updated_at
                    """
            )
            for row in rows {
                // Stored as TEXT so an operator's `sqlite3` shows the documents; the service wrote valid UTF-8.
                try statement.execute(arguments: [
                    row.thing, row.name ?? "", row.version,
                    row.state.map { String(decoding: $0, as: UTF8.self) },
                    row.metadata.map { String(decoding: $0, as: UTF8.self) },
                    row.deletedAt, row.updatedAt,
                ])
            }
        }
    }

    /// Live shadows as (thing, name, version), ordered by thing then name (classic first), only `thing`'s when
    /// given, strictly after (`afterThing`, `afterName`) when given, at most `limit`.
    public func listShadows(thing: String?, afterThing: String?, afterName: String?, limit: Int) async throws
        -> [(thing: String, name: String?, version: Int64)]
    {
        try await writer.read { db in
            var sql = "SELECT thing, name, version FROM shadow WHERE deleted_at IS NULL"
            var arguments: StatementArguments = []
            if let thing {
                sql += " AND thing = ?"
                arguments += [thing]
            }
            if let afterThing {
                sql += " AND (thing > ? OR (thing = ? AND name > ?))"
                arguments += [afterThing, afterThing, afterName ?? ""]
            }
            sql += " ORDER BY thing, name LIMIT ?"
            arguments += [Int64(clamping: limit)]
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                let name: String = row[1]
                return (thing: row[0], name: name.isEmpty ? nil : name, version: row[2])
            }
        }
    }
}
