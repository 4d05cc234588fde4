/// A stored record that does not parse back into a document (edited by hand, or written by a newer Moss).
public struct CorruptShadowRecord: Error, CustomStringConvertible {
    public var key: ShadowKey

    public var description: String { "The stored shadow \(key) is not a valid shadow document" }
}

/// The writer's view of every shadow it has touched: loaded from the store once, then kept current by the
/// writer itself (the only one that changes shadows), so a request costs no read.
struct ShadowCache {
    private let store: any ShadowStore
    /// `.some(nil)` remembers that the store has no such shadow.
    private var states: [ShadowKey: StoredShadowState?] = [:]

    init(store: any ShadowStore) {
        self.store = store
    }

    mutating func state(of key: ShadowKey) async throws -> StoredShadowState? {
        if let known = states[key] { return known }
        let loaded = try await store.loadShadow(key).map { record throws(CorruptShadowRecord) in
            try Self.state(from: record)
        }
        states[key] = .some(loaded)
        return loaded
    }

    mutating func set(_ key: ShadowKey, _ state: StoredShadowState) {
        states[key] = .some(state)
    }

    /// Puts back what was known before an uncommitted change.
    mutating func restore(_ key: ShadowKey, _ state: StoredShadowState?) {
        states[key] = .some(state)
    }

    static func state(from record: StoredShadowRecord) throws(CorruptShadowRecord) -> StoredShadowState {
        if let deletedAt = record.deletedAt {
            return .deleted(version: record.version, deletedAt: deletedAt)
        }
        guard let state = record.state, let metadata = record.metadata,
            let document = ShadowDocument.deserialize(state: state, metadata: metadata, version: record.version)
        else { throw CorruptShadowRecord(key: record.key) }
        return .live(document)
    }
}
