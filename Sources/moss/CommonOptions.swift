import ArgumentParser
import Logging
import MossLogging
import MossCore

/// `--log-level`, shared by every subcommand. Our own enum: extending `Logger.Level` would be a retroactive conformance.
enum LogLevel: String, CaseIterable, ExpressibleByArgument {
    case trace, debug, info, notice, warning, error, critical

    var loggerLevel: Logger.Level { Logger.Level(rawValue: rawValue) ?? .info }
}

/// `--data-dir`, shared by the client commands: the flag, else `MOSS_DATA_DIR`, else `./moss-data`.
struct DataDirectoryOptions: ParsableArguments {
    @Option(
        name: .customLong("data-dir"),
        help: "The daemon's data directory (default: $MOSS_DATA_DIR, else ./moss-data)."
    )
    var dataDirectory: String?

    var resolved: DataDirectory { DataDirectory.resolve(flag: dataDirectory) }
}

/// Only the executable configures logging: once, to standard error at the level asked for, and for the daemon also
/// to its system log file (which writes nothing until the daemon opens it in the data directory).
enum LoggingBootstrap {
    /// How much of the log goes to stderr besides the system log.
    enum StandardError { case sameLevel, atLeast(Logger.Level), off }

    static func start(level: Logger.Level, systemLog: SystemLog? = nil, standardError: StandardError = .sameLevel) {
        LoggingSystem.bootstrap { label in
            var handlers: [any LogHandler] = []
            var handler = StreamLogHandler.standardError(label: label)
            switch standardError {
            case .sameLevel:
                handler.logLevel = level
                handlers.append(handler)
            case .atLeast(let minimum):
                handler.logLevel = max(level, minimum)
                handlers.append(handler)
            case .off: break
            }
            if let systemLog { handlers.append(SystemLogHandler(label: label, log: systemLog, level: level)) }
            switch handlers.count {
            case 0: return SwiftLogNoOpLogHandler()
            case 1: return handlers[0]
            default: return MultiplexLogHandler(handlers)
            }
        }
    }
}
