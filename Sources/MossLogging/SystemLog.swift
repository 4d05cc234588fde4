public import Logging
import Synchronization

/// The daemon's own log file (`DATA_DIR/logs/system.log`, V1's GreengrassSystem logs): a handler for it is installed
/// when logging is bootstrapped, before the data directory is known, and writes nothing until the daemon opens it.
/// Its level and size bound follow the deployed group's GreengrassSystem logger.
public final class SystemLog: Sendable {
    private let state = Mutex<State>(State())

    private struct State {
        var file: RotatingLogFile?
        var level: Logger.Level = .info
    }

    public init() {}

    /// Starts writing to `path`, bounded to `limitBytes`.
    public func open(path: String, limitBytes: Int) throws(LogFileError) {
        let file = try RotatingLogFile(path: path, limitBytes: limitBytes)
        state.withLock { $0.file = file }
    }

    /// The group's GreengrassSystem logger: records below `level` are not written to the file.
    public func configure(level: Logger.Level, limitBytes: Int) {
        state.withLock { state in
            state.level = level
            state.file?.limitBytes = limitBytes
        }
    }

    public var path: String? { state.withLock { $0.file?.path } }

    func write(_ level: Logger.Level, _ line: @autoclosure () -> String) {
        let file: RotatingLogFile? = state.withLock { level >= $0.level ? $0.file : nil }
        guard let file else { return }
        file.append(Array(line().utf8))
    }

    public func close() {
        let file = state.withLock { state -> RotatingLogFile? in
            defer { state.file = nil }
            return state.file
        }
        file?.close()
    }
}
