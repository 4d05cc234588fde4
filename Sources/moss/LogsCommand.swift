import ArgumentParser
import Foundation
import MossCore

/// `moss logs FUNCTION [-f]`: a function's output (stdout, stderr, its log records); `moss logs system`: the
/// daemon's own log.
struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Print a function's log, or the daemon's (system); -f keeps printing what is written next.",
        discussion: """
            Logs are bounded by the group's loggers (Space, V1's default 128 KB): the older half rotates to NAME.log.1             in DATA_DIR/logs. A function that is itself called "system" is `moss logs function:system`.
            """
    )

    @Argument(help: "A function's name (as in the group file), or system for the daemon's log.")
    var function: String

    @Flag(name: .shortAndLong, help: "Follow: keep printing new lines until interrupted.")
    var follow = false

    @OptionGroup var dataDirectory: DataDirectoryOptions

    func run() async throws {
        let client = AdminClient(dataDirectory: dataDirectory.resolved.path)
        var offset: UInt64 = 0
        while true {
            let (text, next) =
                if function == "system" {
                    try await client.systemLog(from: offset)
                } else {
                    try await client.functionLog(function.hasPrefix("function:") ? String(function.dropFirst(9)) : function, from: offset)
                }
            if !text.isEmpty { FileHandle.standardOutput.write(Data(text)) }
            offset = next
            // A full chunk means there is more now; otherwise done, or (following) ask again in half a second.
            if text.count >= 1 << 20 { continue }
            guard follow else { break }
            try await Task.sleep(for: .milliseconds(500))
        }
    }
}
