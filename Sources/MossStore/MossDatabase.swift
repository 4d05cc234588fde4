package import GRDB

/// The one SQLite database of a Moss gateway (ARCHITECTURE.md, decision 2).
///
/// On disk it is a WAL-mode `DatabasePool` whose writer runs with `synchronous = FULL`, so a commit that
/// returned is on disk even if the power fails right after. Every owner's storage (broker state, and later
/// shadows, the spool, deployments) lives in this one file, migrated by ``MossMigrations``.
public final class MossDatabase: Sendable {
    /// The GRDB connection; `package` so that only MossStore and its tests see GRDB.
    package let writer: any DatabaseWriter

    /// Wraps an open connection and migrates it to the latest schema.
    package init(_ writer: any DatabaseWriter) throws {
        self.writer = writer
        try MossMigrations.migrator.migrate(writer)
    }

    /// Opens (creating if needed) the database file at `path` and migrates it.
    public static func open(path: String) throws -> MossDatabase {
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: path, configuration: makeConfiguration())
            // GRDB switches the writer to WAL with `synchronous = NORMAL` after `prepareDatabase` runs, which
            // may lose the last commits on power loss. An acknowledged write must survive, so set FULL here.
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        } catch {
            throw MossStoreError(operation: "open the database at \(path)", underlying: error)
        }
        do {
            return try MossDatabase(pool)
        } catch {
            throw MossStoreError(operation: "migrate the database at \(path)", underlying: error)
        }
    }

    /// A private database in memory, migrated like a file; for tests and `--ephemeral` runs.
    public static func inMemory() throws -> MossDatabase {
        try MossDatabase(DatabaseQueue(configuration: makeConfiguration()))
    }

    /// The names of the migrations applied so far, oldest first.
    public func appliedMigrations() async throws -> [String] {
        try await writer.read { db in try MossMigrations.migrator.appliedMigrations(db) }
    }

    private static func makeConfiguration() -> Configuration {
        var configuration = Configuration()
        configuration.label = "moss"
        // Another process (an operator's `sqlite3`, a second reader) may hold a lock briefly.
        configuration.busyMode = .timeout(5)
        return configuration
    }
}
