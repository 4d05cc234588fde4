public import MossShadow
import Synchronization

/// A ShadowStore in memory for tests of the shadow service and what uses it (MossStore's own tests cover SQLite);
/// it can be told to fail commits, to check that a failed transaction leaves nothing behind.
public final class InMemoryShadowStore: ShadowStore {
    public init() {}

    private let records = Mutex<[ShadowKey: StoredShadowRecord]>([:])
    private let failing = Atomic<Bool>(false)
    private let commitCount = Atomic<Int>(0)

    public func failCommits(_ fail: Bool) { failing.store(fail, ordering: .relaxed) }

    public var commits: Int { commitCount.load(ordering: .relaxed) }

    public func loadShadow(_ key: ShadowKey) async throws -> StoredShadowRecord? {
        records.withLock { $0[key] }
    }

    public func commitShadows(_ batch: [StoredShadowRecord]) async throws {
        struct DiskFull: Error {}
        if failing.load(ordering: .relaxed) { throw DiskFull() }
        commitCount.add(1, ordering: .relaxed)
        records.withLock { records in
            for record in batch { records[record.key] = record }
        }
    }

    public func deleteAllShadows() async throws {
        records.withLock { $0.removeAll() }
    }

    public func listShadows(thing: String?, after: ShadowKey?, limit: Int) async throws -> [ShadowSummary] {
        records.withLock { records in
            records.values
                .filter { $0.deletedAt == nil && (thing == nil || $0.key.thing == thing) }
                .filter { record in after.map { record.key > $0 } ?? true }
                .sorted { $0.key < $1.key }
                .prefix(limit)
                .map { ShadowSummary(thing: $0.key.thing, name: $0.key.name, version: $0.version) }
        }
    }
}
