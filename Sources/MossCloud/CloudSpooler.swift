public import Logging
import NIOCore
public import ServiceLifecycle
import Synchronization

/// Messages for the cloud, kept in order until the cloud acknowledges them (V1's GGCloudSpooler, without its one
/// message in flight).
///
/// `enqueue` never waits: it is called on the broker's event loops. A background task commits what was spooled and
/// what was delivered in batches (one transaction each), and only committed messages are sent, so a message the
/// cloud acknowledged is never resurrected by a restart, and one that was spooled is never lost by one. When the
/// spool is full the oldest messages are dropped, counted and logged. Several messages are in flight at once; a
/// PUBACK removes its message; after a reconnect everything unacknowledged is sent again (at least once).
public final class CloudSpooler: Service, Sendable, CustomStringConvertible {
    /// V1's default `GG_CONFIG_MAX_SIZE_BYTES`: 2.5 MB.
    public static let defaultMaximumBytes = 2_621_440
    /// V1's minimum: a core with less does not start.
    public static let minimumBytes = 262_144
    public static let defaultMaximumInflight = 20
    /// Packet identifiers above this are the connection's own (SUBSCRIBE, UNSUBSCRIBE).
    static let maximumPacketID: UInt16 = 60_000

    /// A message to publish, with the packet identifier it goes with.
    public struct Outgoing: Sendable, Hashable {
        public var message: SpooledMessage
        public var packetID: UInt16
        /// Sent before on an earlier connection and not acknowledged.
        public var duplicate: Bool
    }

    public struct Statistics: Sendable, Hashable, Codable {
        /// Messages waiting (including those in flight).
        public var depth: Int
        public var bytes: Int
        public var maximumBytes: Int
        public var inflight: Int
        /// Oldest messages dropped because the spool was full.
        public var dropped: UInt64
        /// Messages the cloud acknowledged.
        public var delivered: UInt64
    }

    private struct Entry {
        var message: SpooledMessage
        var committed: Bool
    }

    private struct State {
        var entries = CircularBuffer<Entry>()
        var bytes = 0
        var nextSequence: Int64 = 1
        var toAppend: [SpooledMessage] = []
        var toRemove: [Int64] = []
        /// The next sequence the sender considers.
        var cursor: Int64 = 0
        var packetIDBySequence: [Int64: UInt16] = [:]
        var sequenceByPacketID: [UInt16: Int64] = [:]
        var lastPacketID: UInt16 = 0
        var dropped: UInt64 = 0
        var delivered: UInt64 = 0
        var stopping = false
        /// Told once their message is committed (the broker's acknowledgement to the device waits for it).
        var whenStored: [Int64: @Sendable () -> Void] = [:]
    }

    public let maximumBytes: Int
    public let maximumInflight: Int
    private let storage: any SpoolStorage
    private let logger: Logger
    private let state: Mutex<State>
    /// Wakes the committer (something to write) and the sender (something to send, or room in the window).
    private let commitSignal = AsyncSignal()
    private let sendSignal = AsyncSignal()

    public var description: String { "CloudSpooler" }

    /// A spool holding what `storage` kept from before.
    public static func open(
        storage: any SpoolStorage,
        maximumBytes: Int = CloudSpooler.defaultMaximumBytes,
        maximumInflight: Int = CloudSpooler.defaultMaximumInflight,
        logger: Logger
    ) async throws -> CloudSpooler {
        let kept = try await storage.load()
        let spooler = CloudSpooler(storage: storage, maximumBytes: maximumBytes, maximumInflight: maximumInflight, logger: logger)
        spooler.state.withLock { state in
            for message in kept {
                state.entries.append(Entry(message: message, committed: true))
                state.bytes += message.size
            }
            state.nextSequence = (kept.last?.sequence ?? 0) + 1
        }
        if !kept.isEmpty {
            logger.notice("Messages for the cloud kept from before", metadata: ["cloud.spool.depth": "\(kept.count)"])
        }
        return spooler
    }

    private init(storage: any SpoolStorage, maximumBytes: Int, maximumInflight: Int, logger: Logger) {
        self.storage = storage
        self.maximumBytes = max(Self.minimumBytes, maximumBytes)
        self.maximumInflight = max(1, maximumInflight)
        self.logger = logger
        self.state = Mutex(State())
    }

    // MARK: Spooling

    /// Spools a message; drops the oldest ones if it does not fit. `whenStored` runs once the message is committed
    /// (or dropped), on the committer's task.
    public func enqueue(topic: String, payload: [UInt8], whenStored: (@Sendable () -> Void)? = nil) {
        let (dropped, total, released): ([SpooledMessage], UInt64, [@Sendable () -> Void]) = state.withLock { state in
            let message = SpooledMessage(sequence: state.nextSequence, topic: topic, payload: payload)
            state.nextSequence += 1
            var dropped: [SpooledMessage] = []
            if message.size > maximumBytes {
                dropped.append(message)
            } else {
                while state.bytes + message.size > maximumBytes, let oldest = state.entries.first {
                    remove(at: state.entries.startIndex, from: &state)
                    dropped.append(oldest.message)
                }
                state.entries.append(Entry(message: message, committed: false))
                state.bytes += message.size
                state.toAppend.append(message)
                if let whenStored { state.whenStored[message.sequence] = whenStored }
            }
            state.dropped += UInt64(dropped.count)
            // Nobody waits for a dropped message any more.
            let released = dropped.compactMap { state.whenStored.removeValue(forKey: $0.sequence) }
                + (message.size > maximumBytes ? [whenStored].compactMap { $0 } : [])
            return (dropped, state.dropped, released)
        }
        for action in released { action() }
        commitSignal.signal()
        for message in dropped {
            // Each drop loses data, so each is logged; a full spool means the cloud is away and the log says so.
            logger.warning(
                "Spool full: dropped the oldest message for the cloud",
                metadata: [
                    "mqtt.topic": "\(message.topic)", "cloud.spool.sequence": "\(message.sequence)",
                    "cloud.spool.dropped": "\(total)", "cloud.spool.maximum_bytes": "\(maximumBytes)",
                ]
            )
        }
    }

    /// Removes the entry at `index`, and its row (or pending insert).
    private func remove(at index: CircularBuffer<Entry>.Index, from state: inout State) {
        let entry = state.entries.remove(at: index)
        state.bytes -= entry.message.size
        let sequence = entry.message.sequence
        if let packetID = state.packetIDBySequence.removeValue(forKey: sequence) {
            state.sequenceByPacketID[packetID] = nil
        }
        if !entry.committed, let pending = state.toAppend.firstIndex(where: { $0.sequence == sequence }) {
            state.toAppend.remove(at: pending)
        } else {
            state.toRemove.append(sequence)
        }
    }

    // MARK: Sending

    /// A new connection: every unacknowledged message is sent again, in order, keeping its packet identifier.
    public func rewind() {
        state.withLock { $0.cursor = 0 }
        sendSignal.signal()
    }

    /// The next message to publish, when one is committed and the in-flight window has room; nil when cancelled.
    public func next() async -> Outgoing? {
        while !Task.isCancelled {
            if let outgoing = state.withLock({ takeNext(&$0) }) { return outgoing }
            await sendSignal.wait()
        }
        return nil
    }

    private func takeNext(_ state: inout State) -> Outgoing? {
        for entry in state.entries where entry.message.sequence >= state.cursor {
            // Order is kept: nothing is sent past a message that is not committed yet.
            guard entry.committed else { return nil }
            let sequence = entry.message.sequence
            if let packetID = state.packetIDBySequence[sequence] {
                state.cursor = sequence + 1
                return Outgoing(message: entry.message, packetID: packetID, duplicate: true)
            }
            guard state.packetIDBySequence.count < maximumInflight else { return nil }
            var packetID = state.lastPacketID
            repeat { packetID = packetID >= Self.maximumPacketID ? 1 : packetID + 1 } while state.sequenceByPacketID[packetID] != nil
            state.lastPacketID = packetID
            state.packetIDBySequence[sequence] = packetID
            state.sequenceByPacketID[packetID] = sequence
            state.cursor = sequence + 1
            return Outgoing(message: entry.message, packetID: packetID, duplicate: false)
        }
        return nil
    }

    /// The cloud's PUBACK: the message is delivered and leaves the spool.
    public func acknowledge(packetID: UInt16) {
        let removed: Bool = state.withLock { state in
            guard let sequence = state.sequenceByPacketID[packetID],
                let index = state.entries.firstIndex(where: { $0.message.sequence == sequence })
            else { return false }
            remove(at: index, from: &state)
            state.delivered += 1
            return true
        }
        guard removed else { return }
        sendSignal.signal()
        commitSignal.signal()
    }

    public var statistics: Statistics {
        state.withLock { state in
            Statistics(
                depth: state.entries.count,
                bytes: state.bytes,
                maximumBytes: maximumBytes,
                inflight: state.packetIDBySequence.count,
                dropped: state.dropped,
                delivered: state.delivered
            )
        }
    }

    // MARK: Committing

    /// Commits spooled and delivered messages in batches until a graceful shutdown, then commits what is left.
    public func run() async throws {
        await withGracefulShutdownHandler {
            while !Task.isCancelled {
                let stopping = state.withLock { $0.stopping }
                await commitPending()
                if stopping { break }
                await commitSignal.wait()
            }
        } onGracefulShutdown: {
            self.state.withLock { $0.stopping = true }
            self.commitSignal.signal()
        }
    }

    private func commitPending() async {
        while true {
            let (appended, removed) = state.withLock { state in
                defer {
                    state.toAppend.removeAll(keepingCapacity: true)
                    state.toRemove.removeAll(keepingCapacity: true)
                }
                return (state.toAppend, state.toRemove)
            }
            guard !appended.isEmpty || !removed.isEmpty else { return }
            do {
                try await storage.commit(appended: appended, removed: removed)
            } catch {
                logger.error("Could not store the spool; retrying", metadata: ["error": "\(error)"])
                state.withLock { state in
                    // Still waiting: put them back in front of what came since, unless they were dropped meanwhile.
                    let live = Set(state.entries.lazy.map(\.message.sequence))
                    state.toAppend = appended.filter { live.contains($0.sequence) } + state.toAppend
                    state.toRemove = removed + state.toRemove
                }
                try? await Task.sleep(for: .seconds(1))
                if Task.isCancelled { return }
                continue
            }
            let committed = Set(appended.map(\.sequence))
            let stored: [@Sendable () -> Void] = state.withLock { state in
                for index in state.entries.indices where committed.contains(state.entries[index].message.sequence) {
                    state.entries[index].committed = true
                }
                return appended.compactMap { state.whenStored.removeValue(forKey: $0.sequence) }
            }
            for action in stored { action() }
            sendSignal.signal()
        }
    }
}
