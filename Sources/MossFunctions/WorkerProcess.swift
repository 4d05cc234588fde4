import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One worker's operating-system process (NoContainer: started directly; the container launcher comes later).
// Foundation.Process is not marked Sendable; it is only started here and then read and signalled, which it allows
// from any thread.
final class WorkerProcess: @unchecked Sendable {
    private let process: Process

    /// Starts `command` with exactly `environment`, its output appended to `logFile`; `onExit` gets the status.
    init(
        command: [String],
        workingDirectory: String,
        environment: [String: String],
        logFile: String,
        onExit: @escaping @Sendable (Int32) -> Void
    ) throws {
        let process = Process()
        // Through env so a bare program name is looked up on the worker's PATH.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory)
        process.environment = environment
        let directory = (logFile as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: logFile) {
            _ = FileManager.default.createFile(atPath: logFile, contents: nil)
        }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logFile))
        try log.seekToEnd()
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        process.terminationHandler = { finished in
            try? log.close()
            onExit(finished.terminationStatus)
        }
        try process.run()
        self.process = process
    }

    var processIdentifier: Int32 { process.processIdentifier }

    var isRunning: Bool { process.isRunning }

    /// SIGKILL now.
    func kill() {
        guard process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
    }

    /// SIGTERM now, SIGKILL after `grace` if it is still running.
    func stop(grace: Duration = .seconds(2)) {
        guard process.isRunning else { return }
        process.terminate()
        let pid = process.processIdentifier
        Task {
            try? await Task.sleep(for: grace)
            if self.process.isRunning { Glibc.kill(pid, SIGKILL) }
        }
    }
}
