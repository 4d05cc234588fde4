import Foundation
import MossLogging
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// One worker's operating-system process (NoContainer: started directly; the container launcher comes later).
// Foundation.Process is not marked Sendable; it is only started here and then read and signalled, which it allows
// from any thread.
final class WorkerProcess: @unchecked Sendable {
    private let process: Process

    /// Starts `command` with exactly `environment`; its stdout and stderr go, line by line and time-stamped, to
    /// `output` (nowhere when nil); `onExit` gets the status.
    init(
        command: [String],
        workingDirectory: String,
        environment: [String: String],
        output: TimestampedLines?,
        onExit: @escaping @Sendable (Int32) -> Void
    ) throws {
        let process = Process()
        // Through env so a bare program name is looked up on the worker's PATH.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory)
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        var pipeEnds: (read: Int32, write: FileHandle)?
        if output != nil {
            var descriptors: [Int32] = [-1, -1]
            // Close-on-exec at once: other children the daemon starts meanwhile must not hold the write end open.
            guard pipe(&descriptors) == 0, fcntl(descriptors[0], F_SETFD, FD_CLOEXEC) == 0,
                fcntl(descriptors[1], F_SETFD, FD_CLOEXEC) == 0
            else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "cannot create the worker's output pipe"])
            }
            let write = FileHandle(fileDescriptor: descriptors[1], closeOnDealloc: true)
            process.standardOutput = write
            process.standardError = write
            pipeEnds = (descriptors[0], write)
        } else {
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
        }
        process.terminationHandler = { finished in
            onExit(finished.terminationStatus)
        }
        do {
            try process.run()
        } catch {
            if let pipeEnds { _ = Glibc.close(pipeEnds.read) }
            throw error
        }
        if let pipeEnds, let output {
            // The daemon's copy of the write end would keep the pipe open after the worker exits.
            try? pipeEnds.write.close()
            WorkerOutputReader.start(descriptor: pipeEnds.read, output: output, group: MultiThreadedEventLoopGroup.singleton)
        }
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
