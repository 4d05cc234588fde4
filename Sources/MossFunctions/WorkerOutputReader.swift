import Dispatch
import MossLogging

#if canImport(Glibc)
import Glibc
#endif

/// Reads a worker's stdout and stderr pipe into its log as the bytes arrive, and closes the pipe at end of output.
///
/// A dispatch read source rather than FileHandle.readabilityHandler: on Linux, clearing that handler from inside
/// itself (which is where end of output is seen) deadlocks.
final class WorkerOutputReader {
    /// One queue for all workers' output: appends are short, and the log files serialize them anyway.
    private static let queue = DispatchQueue(label: "moss.worker-output")
    private let source: any DispatchSourceRead

    /// Takes ownership of `descriptor`, the read end of the pipe.
    init(descriptor: Int32, output: TimestampedLines) {
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        let source = DispatchSource.makeReadSource(fileDescriptor: descriptor, queue: Self.queue)
        source.setEventHandler {
            var buffer = [UInt8](repeating: 0, count: 16 * 1024)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count > 0 {
                    output.feed(Array(buffer[..<count]))
                } else if count == 0 {
                    // Every writer (the worker and whatever it started) has closed its end.
                    output.finish()
                    source.cancel()
                    return
                } else {
                    if errno == EINTR { continue }
                    if errno != EAGAIN {
                        output.finish()
                        source.cancel()
                    }
                    return
                }
            }
        }
        source.setCancelHandler { _ = close(descriptor) }
        source.resume()
        self.source = source
    }
}
