#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// An append-only log file whose size is bounded: when the next write would take it past half the bound, it
/// becomes `PATH.1` (replacing the previous one) and a new file starts, so the two together stay within the bound
/// (V1's `Space` of a logger) and the newest lines are always kept.
public final class RotatingLogFile: Sendable {
    public let path: String
    private let state: Mutex<State>

    private struct State {
        var descriptor: Int32
        var size: Int
        var limitBytes: Int
    }

    /// The smallest bound honoured (a bound below one line would rotate on every write).
    public static let minimumLimitBytes = 8 * 1024

    /// Opens (creating, mode 0600) `path` for appending.
    public init(path: String, limitBytes: Int) throws(LogFileError) {
        self.path = path
        let descriptor = try Self.open(path)
        var status = Glibc.stat()
        let size = fstat(descriptor, &status) == 0 ? Int(status.st_size) : 0
        state = Mutex(State(descriptor: descriptor, size: size, limitBytes: max(limitBytes, Self.minimumLimitBytes)))
    }

    deinit { state.withLock { if $0.descriptor >= 0 { _ = Glibc.close($0.descriptor) } } }

    public var limitBytes: Int {
        get { state.withLock { $0.limitBytes } }
        set { state.withLock { $0.limitBytes = max(newValue, Self.minimumLimitBytes) } }
    }

    /// Appends `bytes` in one write (rotating first if they would not fit); a write that fails is dropped, since a
    /// log must never stop the process that logs. A record longer than half the bound keeps only its end.
    public func append(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        state.withLock { state in
            guard state.descriptor >= 0 else { return }
            let bytes = bytes.count > state.limitBytes / 2 ? Array(bytes.suffix(state.limitBytes / 2)) : bytes
            if state.size > 0 && state.size + bytes.count > state.limitBytes / 2 {
                rotate(&state)
            }
            let written = bytes.withUnsafeBytes { Glibc.write(state.descriptor, $0.baseAddress, $0.count) }
            if written > 0 { state.size += written }
        }
    }

    /// Closes the file; later appends are dropped.
    public func close() {
        state.withLock { state in
            if state.descriptor >= 0 { _ = Glibc.close(state.descriptor) }
            state.descriptor = -1
        }
    }

    private func rotate(_ state: inout State) {
        // Renamed while open: the old descriptor keeps pointing at PATH.1 until it is closed below.
        guard rename(path, path + ".1") == 0, let descriptor = try? Self.open(path) else { return }
        _ = Glibc.close(state.descriptor)
        state.descriptor = descriptor
        state.size = 0
    }

    private static func open(_ path: String) throws(LogFileError) -> Int32 {
        let descriptor = Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw LogFileError(path: path, reason: String(cString: strerror(errno))) }
        return descriptor
    }
}

/// A log file that could not be opened.
public struct LogFileError: Error, CustomStringConvertible {
    public var path: String
    public var reason: String

    public var description: String { "cannot open the log file \(path): \(reason)" }
}
