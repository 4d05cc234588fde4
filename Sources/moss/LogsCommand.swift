import ArgumentParser
import Foundation
import MossCore

/// `moss logs FUNCTION [-f]`: a function's output (stdout, stderr, its log records).
struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Print a function's log; -f keeps printing what it writes next."
    )

    @Argument(help: "The function's name (as in the group file).")
    var function: String

    @Flag(name: .shortAndLong, help: "Follow: keep printing new lines until interrupted.")
    var follow = false

    @OptionGroup var dataDirectory: DataDirectoryOptions

    func run() async throws {
        let client = AdminClient(dataDirectory: dataDirectory.resolved.path)
        var offset: UInt64 = 0
        while true {
            let (text, next) = try await client.functionLog(function, from: offset)
            if !text.isEmpty { FileHandle.standardOutput.write(Data(text)) }
            offset = next
            // A full chunk means there is more now; otherwise done, or (following) ask again in half a second.
            if text.count >= 1 << 20 { continue }
            guard follow else { break }
            try await Task.sleep(for: .milliseconds(500))
        }
    }
}
