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
    static func start(level: Logger.Level, systemLog: SystemLog? = nil) {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            guard let systemLog else { return handler }
            return MultiplexLogHandler([handler, SystemLogHandler(label: label, log: systemLog, level: level)])
        }
    }
}
