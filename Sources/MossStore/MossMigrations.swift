import GRDB

/// The schema's history. Append only: a migration that shipped is never edited, renamed or reordered,
/// because gateways in the field have already recorded it as applied. Later issues append theirs
/// ("v2-shadows", "v3-deployments", "v5-cloud", …) at the end of `migrator`.
enum MossMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-broker", migrate: v1Broker)
        migrator.registerMigration("v2-shadows", migrate: v2Shadows)
        migrator.registerMigration("v3-deployments", migrate: v3Deployments)
        migrator.registerMigration("v5-cloud", migrate: v5Cloud)
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

    /// Device shadows: one row per (thing, shadow name; '' for the classic shadow), live or deleted.
    /// A deleted shadow keeps its row (state NULL, deleted_at set) so a re-created one continues its versions.
    private static func v2Shadows(_ db: Database) throws {
        try db.create(table: "shadow", options: [.withoutRowID]) { table in
            table.column("thing", .text).notNull()
            table.column("name", .text).notNull()
            table.column("version", .integer).notNull()
            table.column("state", .text)
            table.column("metadata", .text)
            table.column("deleted_at", .integer)
            table.column("updated_at", .integer).notNull()
            table.primaryKey(["thing", "name"])
        }
    }

    /// Group deployments, newest last: what was asked (kind, the group's canonical JSON and digest), how it ended
    /// (status, error details). `deployed_group` holds the one row naming the deployment in effect.
    private static func v3Deployments(_ db: Database) throws {
        try db.create(table: "deployment") { table in
            table.primaryKey("id", .text)
            table.column("sequence", .integer).notNull().unique()
            table.column("kind", .text).notNull()
            table.column("status", .text).notNull()
            table.column("group_json", .blob)
            table.column("group_digest", .text)
            table.column("source", .text)
            table.column("error_details", .text)
            table.column("created_at", .double).notNull()
            table.column("finished_at", .double)
        }
        try db.create(table: "deployed_group") { table in
            table.primaryKey("singleton", .integer).check { $0 == 1 }
            table.column("deployment_id", .text).references("deployment")
        }
    }

    /// The cloud: messages spooled for it (oldest first by sequence), and what the shadow sync last agreed on with it
    /// per shadow (`synced` NULL: agreed the shadow does not exist).
    private static func v5Cloud(_ db: Database) throws {
        try db.create(table: "cloud_spool") { table in
            table.primaryKey("sequence", .integer)
            table.column("topic", .text).notNull()
            table.column("payload", .blob).notNull()
        }
        try db.create(table: "shadow_sync", options: [.withoutRowID]) { table in
            table.column("thing", .text).notNull()
            table.column("name", .text).notNull()
            table.column("synced", .text)
            table.column("local_version", .integer)
            table.column("cloud_version", .integer)
            table.column("synced_at", .double).notNull()
            table.primaryKey(["thing", "name"])
        }
    }
}
