import Foundation
import MossCore
import MossShadow
import MossStore
import Synchronization

// Durable shadow updates per second through the in-process API, on the real SQLite store (WAL, synchronous=FULL),
// for scripts/bench/shadow.sh. Each run prints one line:
//   inproc max_batch=512 clients=320 things=10 seconds=5 updates_per_s=… updates_per_commit=… p50_us=… p99_us=…
// `max_batch=1` (one transaction, one fsync per update) is the anchor that shows what group commit buys.

struct Options {
    var dataDirectory = ".build/bench-shadow/inproc"
    var things = 10
    var clients = 320
    var seconds = 5.0
    var batches = [ShadowService.defaultMaximumBatch, 1]

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let argument = iterator.next() {
            let value = iterator.next() ?? ""
            switch argument {
            case "--data-dir": dataDirectory = value
            case "--things": things = Int(value) ?? things
            case "--clients": clients = Int(value) ?? clients
            case "--seconds": seconds = Double(value) ?? seconds
            case "--max-batch": batches = value.split(separator: ",").compactMap { Int($0) }
            default:
                FileHandle.standardError.write(Data("unknown option \(argument)\n".utf8))
                exit(2)
            }
        }
    }
}

final class Recorder: Sendable {
    let latencies = Mutex<[UInt64]>([])
    let rejected = Atomic<Int>(0)
}

func run(options: Options, maximumBatch: Int) async throws {
    let directory = "\(options.dataDirectory)/batch-\(maximumBatch)"
    try? FileManager.default.removeItem(atPath: directory)
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let database = try MossDatabase.open(path: "\(directory)/moss.sqlite")
    let service = ShadowService(
        store: ShadowStoreAdapter(database: database),
        maximumBatch: maximumBatch,
        publisher: { _ in }
    )
    let writer = Task { await service.run() }
    let recorder = Recorder()
    let clock = ContinuousClock()
    let warmUpEnd = clock.now + .seconds(1)
    let end = warmUpEnd + .milliseconds(Int64(options.seconds * 1000))
    let before = service.statistics

    await withTaskGroup(of: Void.self) { group in
        for client in 0..<options.clients {
            group.addTask {
                let key = ShadowKey(thing: "bench-thing-\(client % options.things)")
                var sequence = 0
                var samples: [UInt64] = []
                while true {
                    let started = clock.now
                    if started >= end { break }
                    sequence += 1
                    let payload = Array(
                        #"{"state":{"reported":{"temperature":\#(20 + sequence % 10),"humidity":\#(40 + sequence % 7),"seq":\#(sequence)}},"clientToken":"c\#(client)-\#(sequence)"}"#
                            .utf8
                    )
                    let outcome = await service.update(key, payload: payload)
                    if case .rejected = outcome { recorder.rejected.add(1, ordering: .relaxed) }
                    if started >= warmUpEnd {
                        let elapsed = clock.now - started
                        samples.append(UInt64(elapsed.components.seconds) * 1_000_000 + UInt64(elapsed.components.attoseconds / 1_000_000_000_000))
                    }
                }
                recorder.latencies.withLock { $0.append(contentsOf: samples) }
            }
        }
    }
    let after = service.statistics
    service.finish()
    await writer.value

    let latencies = recorder.latencies.withLock { $0 }.sorted()
    let count = latencies.count
    func percentile(_ p: Double) -> UInt64 { count == 0 ? 0 : latencies[min(count - 1, Int(Double(count) * p))] }
    let commits = max(1, after.commits - before.commits)
    let requests = after.requests - before.requests
    print(
        "inproc max_batch=\(maximumBatch) clients=\(options.clients) things=\(options.things) seconds=\(options.seconds)"
            + " updates_per_s=\(Int(Double(count) / options.seconds))"
            + " updates_per_commit=\(String(format: "%.1f", Double(requests) / Double(commits)))"
            + " p50_us=\(percentile(0.5)) p99_us=\(percentile(0.99)) max_us=\(latencies.last ?? 0)"
            + " rejected=\(recorder.rejected.load(ordering: .relaxed))"
    )
    if recorder.rejected.load(ordering: .relaxed) > 0 { exit(4) }
}

let options = Options(CommandLine.arguments)
for batch in options.batches {
    try await run(options: options, maximumBatch: batch)
}
