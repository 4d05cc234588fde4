import Logging
import MossDeploy
import MossLogging

/// Applies the group's GreengrassSystem logger (level and Space) to the daemon's log file; a reset (or a group
/// without a FileSystem logger for the component) restores V1's defaults, INFO and 128 KB.
struct SystemLogStage: DeploymentStage {
    static let defaultLimitBytes = 128 * 1024

    let log: SystemLog?

    func prepare(_ group: GroupDefinition?) async throws -> any PreparedStage {
        let logger = group?.logging.first { $0.component == .greengrassSystem && $0.type == .fileSystem }
        return Prepared(
            log: log,
            level: logger.map { Self.level($0.level) } ?? .info,
            limitBytes: logger.map { $0.space * 1024 } ?? Self.defaultLimitBytes
        )
    }

    /// V1's level names on swift-log's scale (FATAL is swift-log's critical).
    static func level(_ level: GroupDefinition.LogLevel) -> Logger.Level {
        switch level {
        case .debug: .debug
        case .info: .info
        case .warn: .warning
        case .error: .error
        case .fatal: .critical
        }
    }

    private struct Prepared: PreparedStage {
        let log: SystemLog?
        let level: Logger.Level
        let limitBytes: Int

        func activate() async { log?.configure(level: level, limitBytes: limitBytes) }
        func discard() async {}
    }
}
