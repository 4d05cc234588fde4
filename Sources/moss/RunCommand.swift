import ArgumentParser
import Foundation
import Logging
import MossCore
import MossLogging

/// `moss run`: the daemon. Defaults, then `--config FILE`, then `MOSS_DATA_DIR`, then flags.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the Moss daemon until SIGINT or SIGTERM.",
        discussion: """
            With no configuration file Moss serves plain MQTT on 127.0.0.1:1883, and MQTT over mutual TLS on \
            port 8883 when certificates are configured or were made with `moss certs init`. The ports it bound \
            go to DATA_DIR/ports.json.
            """
    )

    @Option(help: "A YAML core configuration file (see docs/moss.yaml).")
    var config: String?

    @Option(name: .customLong("data-dir"), help: "Data directory (overrides the file and $MOSS_DATA_DIR).")
    var dataDirectory: String?

    @Option(help: "Plain MQTT port; 0 picks a free port.")
    var mqttPort: Int?

    @Option(help: "MQTT over TLS port; 0 picks a free port.")
    var mqttsPort: Int?

    @Option(help: "Address the MQTT listeners bind to.")
    var bind: String?

    @Option(help: "Minimum log level: \(LogLevel.allCases.map(\.rawValue).joined(separator: ", ")).")
    var logLevel: LogLevel?

    func validate() throws {
        for (flag, port) in [("--mqtt-port", mqttPort), ("--mqtts-port", mqttsPort)] {
            if let port, !(0...65_535).contains(port) {
                throw ValidationError("\(flag) must be a port in 0...65535 (0 picks a free port), got \(port)")
            }
        }
        if let bind, bind.isEmpty {
            throw ValidationError("--bind must be an address to listen on")
        }
    }

    func run() async throws {
        var configuration = try config.map { try CoreConfiguration.load(file: $0) } ?? CoreConfiguration()
        if let fromEnvironment = ProcessInfo.processInfo.environment["MOSS_DATA_DIR"], !fromEnvironment.isEmpty {
            configuration.dataDirectory = fromEnvironment
        }
        if let dataDirectory { configuration.dataDirectory = dataDirectory }
        if let mqttPort { configuration.mqtt.port = mqttPort }
        if let mqttsPort { configuration.mqtt.tlsPort = mqttsPort }
        if let bind { configuration.mqtt.bind = bind }
        if let logLevel { configuration.logLevel = logLevel.loggerLevel }
        try configuration.validate()

        let systemLog = SystemLog()
        LoggingBootstrap.start(level: configuration.logLevel, systemLog: systemLog)
        let logger = Logger(label: "moss")
        try await MossDaemon(configuration: configuration, logger: logger, systemLog: systemLog).run()
    }
}
