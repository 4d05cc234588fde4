import Foundation
import MossCore
import MossResources

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Shows the downloads of a deployment while its request runs, by polling the admin API: a progress bar (size,
/// rate, ETA) on a terminal, a plain line per download otherwise. Written to standard error, so standard output
/// keeps only the result.
enum DeployProgress {
    static func whileRunning<Result: Sendable>(
        _ client: AdminClient,
        _ operation: @escaping @Sendable () async throws -> Result
    ) async throws -> Result {
        try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                await poll(client, terminal: isatty(STDOUT_FILENO) == 1 && isatty(STDERR_FILENO) == 1)
                return nil
            }
            var result: Result?
            while let next = try await group.next() {
                if let next {
                    result = next
                    group.cancelAll()
                }
            }
            return result!
        }
    }

    private static func poll(_ client: AdminClient, terminal: Bool) async {
        var seen: [String: ResourceTransfer] = [:]
        var announced: Set<String> = []
        var drawn = false
        func finished(except current: Set<String>) {
            for (id, last) in seen.sorted(by: { $0.key < $1.key }) where !current.contains(id) {
                if drawn { write("\r\u{1B}[K") }
                drawn = false
                write("Downloaded \(id): \(ByteCount.text(last.total ?? last.bytes))\n")
                seen[id] = nil
            }
        }
        while !Task.isCancelled {
            let transfers = (try? await client.resourceTransfers()) ?? []
            // A cancelled poll (the deployment has answered) is not an empty list.
            if Task.isCancelled { break }
            finished(except: Set(transfers.map(\.resourceId)))
            for transfer in transfers {
                // Announced once its size is known (the response's head), or once bytes arrive without one; a poll can
                // see a transfer that has not had its answer yet.
                if !terminal, !announced.contains(transfer.resourceId), transfer.total != nil || transfer.bytes > 0 {
                    let size = transfer.total.map { " (\(ByteCount.text($0)))" } ?? ""
                    write("Downloading \(transfer.resourceId) from \(transfer.source)\(size)\n")
                    announced.insert(transfer.resourceId)
                }
                seen[transfer.resourceId] = transfer
            }
            if terminal, let shown = transfers.first {
                write("\r\u{1B}[K" + bar(shown))
                drawn = true
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
        // The deployment has answered: whatever was still downloading at the last poll has finished.
        finished(except: [])
        if drawn { write("\r\u{1B}[K") }
    }

    /// `standardiser  [########------------]  40%  1.2 MiB of 3.0 MiB  2.1 MiB/s  ETA 1s`
    static func bar(_ transfer: ResourceTransfer) -> String {
        let rate = "\(ByteCount.text(Int64(transfer.bytesPerSecond)))/s"
        guard let total = transfer.total, total > 0 else {
            return "\(transfer.resourceId)  \(ByteCount.text(transfer.bytes))  \(rate)"
        }
        let fraction = min(1, Double(transfer.bytes) / Double(total))
        let width = 24
        let filled = Int(fraction * Double(width))
        let eta =
            transfer.bytesPerSecond > 0
            ? "ETA \(Int((Double(total - transfer.bytes) / transfer.bytesPerSecond).rounded(.up)))s" : "ETA -"
        return
            "\(transfer.resourceId)  [\(String(repeating: "#", count: filled))\(String(repeating: "-", count: width - filled))]"
            + "  \(Int(fraction * 100))%  \(ByteCount.text(transfer.bytes)) of \(ByteCount.text(total))  \(rate)  \(eta)"
    }

    private static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
