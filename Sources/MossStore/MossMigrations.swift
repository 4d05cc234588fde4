import GRDB

/// The schema's history. Append only: a migration that shipped is never edited, renamed or reordered,
/// because gateways in the field have already recorded it as applied. Later issues append theirs
/// ("v2-shadows", "v3-spool", "v4-deployments", …) at the end of `migrator`.
enum MossMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-broker", migrate: v1Broker)
        return migrator
    }

    /// Retained messages and persistent sessions, as opaque records the broker encodes itself.
    private static func v1Broker(_ db: Database) throws {
        try db.create(table: "retained_message", options: [.withoutRowID]) { table in
            table.primaryKey("topic", .text)
            table.column("record", .blob).notNull()
        }
        try db.create(table: "broker_session", options: [.withoutRowID]) { table in
            table.primaryKey("client_id", .text)
            table.column("record", .blob).notNull()
        }
    }
}
