import Foundation
import Synchronization

/// One download under way, as the CLI's progress bar shows it.
public struct ResourceTransfer: Sendable, Hashable, Codable {
    public var resourceId: String
    public var source: String
    /// Bytes received so far.
    public var bytes: Int64
    /// The package's size, when the source said.
    public var total: Int64?
    /// Average bytes per second since the transfer started.
    public var bytesPerSecond: Double
    public var elapsedSeconds: Double

    public init(
        resourceId: String,
        source: String,
        bytes: Int64,
        total: Int64?,
        bytesPerSecond: Double,
        elapsedSeconds: Double
    ) {
        self.resourceId = resourceId
        self.source = source
        self.bytes = bytes
        self.total = total
        self.bytesPerSecond = bytesPerSecond
        self.elapsedSeconds = elapsedSeconds
    }
}

/// The downloads under way, shared between the fetcher (which updates it per chunk) and the admin API (which reads
/// it while a deployment runs). A lock, not an actor: nothing awaits inside.
public final class ResourceProgress: Sendable {
    private struct Entry {
        var source: String
        var bytes: Int64
        var total: Int64?
        var started: ContinuousClock.Instant
    }

    private let entries = Mutex<[String: Entry]>([:])

    public init() {}

    func begin(_ resourceId: String, source: String) {
        entries.withLock { $0[resourceId] = Entry(source: source, bytes: 0, total: nil, started: .now) }
    }

    func setTotal(_ resourceId: String, _ total: Int64?) {
        entries.withLock { $0[resourceId]?.total = total }
    }

    func add(_ resourceId: String, bytes: Int) {
        entries.withLock { $0[resourceId]?.bytes += Int64(bytes) }
    }

    func finish(_ resourceId: String) {
        entries.withLock { $0[resourceId] = nil }
    }

    /// The transfers under way, by resource id.
    public func snapshot() -> [ResourceTransfer] {
        let now = ContinuousClock.now
        return entries.withLock { entries in
            entries.map { id, entry in
                let elapsed = (now - entry.started) / .seconds(1)
                return ResourceTransfer(
                    resourceId: id,
                    source: entry.source,
                    bytes: entry.bytes,
                    total: entry.total,
                    bytesPerSecond: elapsed > 0 ? Double(entry.bytes) / elapsed : 0,
                    elapsedSeconds: elapsed
                )
            }
        }.sorted { $0.resourceId < $1.resourceId }
    }
}
