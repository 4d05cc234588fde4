import Logging
import MossTestSupport
import Synchronization
import Testing

@testable import MossCloud

/// The spooler's rules: order, the in-flight window, PUBACKs, the size bound, resending after a reconnect, and what
/// a restart finds in FileSystem storage (here a storage that keeps its rows in memory across "restarts").
@Suite(.timeLimit(.minutes(1))) struct CloudSpoolerTests {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    /// Rows as a database would keep them; shared by spoolers opened one after another.
    final class RowStorage: SpoolStorage {
        let rows = Mutex<[Int64: SpooledMessage]>([:])
        let commits = Atomic<Int>(0)

        func load() async throws -> [SpooledMessage] {
            rows.withLock { $0.values.sorted { $0.sequence < $1.sequence } }
        }

        func commit(appended: [SpooledMessage], removed: [Int64]) async throws {
            commits.add(1, ordering: .relaxed)
            rows.withLock { rows in
                for message in appended { rows[message.sequence] = message }
                for sequence in removed { rows[sequence] = nil }
            }
        }

        var sequences: [Int64] { rows.withLock { $0.keys.sorted() } }
    }

    /// Runs the spooler's committer while `body` runs.
    func withRunning<T>(_ spooler: CloudSpooler, _ body: () async throws -> T) async throws -> T {
        let committer = Task { try await spooler.run() }
        defer { committer.cancel() }
        return try await body()
    }

    func payload(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func messagesGoOutInOrderAndAPubackRemovesOne() async throws {
        let storage = RowStorage()
        let spooler = try await CloudSpooler.open(storage: storage, logger: logger)
        try await withRunning(spooler) {
            for index in 1...5 { spooler.enqueue(topic: "t/\(index)", payload: payload("m\(index)")) }
            var sent: [CloudSpooler.Outgoing] = []
            for _ in 1...5 { sent.append(try #require(await spooler.next())) }
            #expect(sent.map(\.message.topic) == ["t/1", "t/2", "t/3", "t/4", "t/5"])
            #expect(Set(sent.map(\.packetID)).count == 5)
            #expect(sent.allSatisfy { !$0.duplicate })
            #expect(spooler.statistics.inflight == 5)

            spooler.acknowledge(packetID: sent[1].packetID)
            #expect(spooler.statistics.depth == 4)
            #expect(spooler.statistics.delivered == 1)
            // The deletion reaches storage in a later commit.
            try await waitUntil("the delivered message is deleted") { storage.sequences == [1, 3, 4, 5] }
        }
    }

    @Test func theWindowBoundsMessagesInFlight() async throws {
        let spooler = try await CloudSpooler.open(storage: MemorySpoolStorage(), maximumInflight: 2, logger: logger)
        try await withRunning(spooler) {
            for index in 1...3 { spooler.enqueue(topic: "t/\(index)", payload: payload("m")) }
            let first = try #require(await spooler.next())
            let second = try #require(await spooler.next())
            #expect(spooler.statistics.inflight == 2)
            let third = Task { await spooler.next() }
            spooler.acknowledge(packetID: first.packetID)
            #expect(await third.value?.message.topic == "t/3")
            #expect(second.message.topic == "t/2")
            #expect(spooler.statistics.inflight == 2)
        }
    }

    @Test func whenFullTheOldestAreDroppedAndCounted() async throws {
        let storage = RowStorage()
        let spooler = try await CloudSpooler.open(storage: storage, maximumBytes: CloudSpooler.minimumBytes, logger: logger)
        try await withRunning(spooler) {
            let big = [UInt8](repeating: 0x61, count: 100_000)
            for index in 1...4 { spooler.enqueue(topic: "t/\(index)", payload: big) }
            let statistics = spooler.statistics
            #expect(statistics.dropped == 2)
            #expect(statistics.depth == 2)
            #expect(statistics.bytes <= CloudSpooler.minimumBytes)
            #expect(try #require(await spooler.next()).message.topic == "t/3")
            #expect(try #require(await spooler.next()).message.topic == "t/4")
            try await waitUntil("the dropped messages are deleted") { storage.sequences == [3, 4] }
        }
    }

    @Test func aMessageLargerThanTheSpoolIsDroppedAlone() async throws {
        let spooler = try await CloudSpooler.open(storage: MemorySpoolStorage(), maximumBytes: CloudSpooler.minimumBytes, logger: logger)
        spooler.enqueue(topic: "small", payload: payload("x"))
        spooler.enqueue(topic: "huge", payload: [UInt8](repeating: 0, count: CloudSpooler.minimumBytes + 1))
        #expect(spooler.statistics.dropped == 1)
        #expect(spooler.statistics.depth == 1)
    }

    @Test func theBoundHasV1sMinimum() async throws {
        let spooler = try await CloudSpooler.open(storage: MemorySpoolStorage(), maximumBytes: 1000, logger: logger)
        #expect(spooler.maximumBytes == 262_144)
    }

    @Test func afterAReconnectUnacknowledgedMessagesAreResentWithTheirPacketIDs() async throws {
        let spooler = try await CloudSpooler.open(storage: MemorySpoolStorage(), logger: logger)
        try await withRunning(spooler) {
            for index in 1...3 { spooler.enqueue(topic: "t/\(index)", payload: payload("m")) }
            let first = try #require(await spooler.next())
            let second = try #require(await spooler.next())
            spooler.acknowledge(packetID: first.packetID)
            spooler.rewind()
            let again = try #require(await spooler.next())
            #expect(again.message.topic == "t/2")
            #expect(again.packetID == second.packetID)
            #expect(again.duplicate)
            let third = try #require(await spooler.next())
            #expect(third.message.topic == "t/3")
            #expect(!third.duplicate)
        }
    }

    @Test func whatWasSpooledAndNotDeliveredIsThereAfterARestart() async throws {
        let storage = RowStorage()
        do {
            let spooler = try await CloudSpooler.open(storage: storage, logger: logger)
            try await withRunning(spooler) {
                for index in 1...4 { spooler.enqueue(topic: "t/\(index)", payload: payload("m\(index)")) }
                let first = try #require(await spooler.next())
                spooler.acknowledge(packetID: first.packetID)
                try await waitUntil("the delivered message is deleted") { storage.sequences == [2, 3, 4] }
            }
        }
        let reopened = try await CloudSpooler.open(storage: storage, logger: logger)
        try await withRunning(reopened) {
            #expect(reopened.statistics.depth == 3)
            var topics: [String] = []
            for _ in 1...3 { topics.append(try #require(await reopened.next()).message.topic) }
            #expect(topics == ["t/2", "t/3", "t/4"])
            reopened.enqueue(topic: "t/5", payload: payload("m5"))
            // Sequences continue after the kept ones.
            try await waitUntil("the new message is stored") { storage.sequences == [2, 3, 4, 5] }
        }
    }
}
