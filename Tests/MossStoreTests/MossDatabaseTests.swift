import Foundation
import GRDB
import Testing

@testable import MossStore

@Suite("MossDatabase: file, pragmas, migrations")
struct MossDatabaseTests {
    @Test func migrationsAreAppendOnlyAndApplied() async throws {
        let database = try MossDatabase.inMemory()
        // Names of shipped migrations never change; later issues append to this list.
        #expect(try await database.appliedMigrations() == ["v1-broker", "v2-shadows", "v3-deployments", "v5-cloud"])
        #expect(MossMigrations.migrator.migrations == ["v1-broker", "v2-shadows", "v3-deployments", "v5-cloud"])
    }

    @Test func fileDatabaseUsesWALAndFullSync() async throws {
        try await withTemporaryDirectory { directory in
            let database = try MossDatabase.open(path: directory + "/moss.sqlite")
            let (journalMode, synchronous) = try await database.writer.writeWithoutTransaction { db in
                (
                    try String.fetchOne(db, sql: "PRAGMA journal_mode"),
                    try Int.fetchOne(db, sql: "PRAGMA synchronous")
                )
            }
            #expect(journalMode == "wal")
            #expect(synchronous == 2)  // FULL
        }
    }

    @Test func reopeningKeepsDataAndDoesNotRemigrate() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/moss.sqlite"
            do {
                let database = try MossDatabase.open(path: path)
                try await database.applyBrokerBatch(.init(retainedUpserts: [.init(key: "a/b", bytes: [1, 2, 3])]))
            }
            let reopened = try MossDatabase.open(path: path)
            #expect(try await reopened.appliedMigrations() == ["v1-broker", "v2-shadows", "v3-deployments", "v5-cloud"])
            #expect(try await reopened.loadBrokerState().retainedMessages == [.init(key: "a/b", bytes: [1, 2, 3])])
        }
    }

    @Test func openingAnUnwritablePathNamesIt() throws {
        let error = #expect(throws: MossStoreError.self) {
            _ = try MossDatabase.open(path: "/nonexistent-moss-dir/sub/moss.sqlite")
        }
        #expect(error?.description.contains("/nonexistent-moss-dir/sub/moss.sqlite") == true)
    }
}

/// Runs `body` with a fresh directory that is removed afterwards.
func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("moss-store-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
}
