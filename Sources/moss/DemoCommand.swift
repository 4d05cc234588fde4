import ArgumentParser
import Foundation
import Logging
import MossCore
import MossDemo
import MossLogging

/// `moss demo`: the README's first command.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the rain-prediction tutorial on Moss: a simulated sensor, the functions, the models, live.",
        discussion: """
            Starts Moss with no configuration (data in ./moss-demo), makes certificates on first run, deploys the \
            tutorial's group (a BME680 sensor over mutual TLS, a republishing function, a standardiser and a rain \
            predictor as ML resources, a pinned inference function and the same inference as a declarative \
            pipeline) and shows the predictions as they come. On a terminal the view redraws in place; otherwise \
            one line per new prediction. Ctrl-C stops everything; the data directory stays for inspection.
            """
    )

    @Option(name: .customLong("data-dir"), help: "Data directory.")
    var dataDirectory = "./moss-demo"

    @Option(help: "A YAML core configuration (see docs/moss.yaml); needed for --cloud.")
    var config: String?

    @Flag(help: "Sync the sensor's shadow with AWS IoT (the cloud section of --config).")
    var cloud = false

    @Flag(help: "One JSON object per new prediction instead of the view.")
    var json = false

    @Flag(help: "No Python functions: the declarative pipeline alone, on the sensor's messages.")
    var pipelineOnly = false

    @Option(help: "Plain MQTT port (default 1883, or a free one when it is taken).")
    var mqttPort: Int?

    @Option(help: "MQTT over TLS port (default 8883, or a free one when it is taken).")
    var mqttsPort: Int?

    @Option(help: "Seconds between sensor readings.")
    var readingInterval = 2.0

    @Option(help: "Seconds between predictions.")
    var inferenceInterval = 10.0

    @Option(help: "Seconds for one dry → rain → dry weather cycle.")
    var weatherCycle = 120.0

    @Option(help: "Stop the sensor after this many readings (default: never).")
    var readings: Int?

    @Option(help: "Seed of the simulated weather's noise.")
    var seed: UInt64 = 1

    func validate() throws {
        if cloud && config == nil {
            throw ValidationError("--cloud needs --config FILE with a cloud section (see docs/cloud.md)")
        }
        for (flag, value, minimum) in [
            ("--reading-interval", readingInterval, 0.05), ("--inference-interval", inferenceInterval, 0.1),
            ("--weather-cycle", weatherCycle, 1.0),
        ] where !(value >= minimum && value <= 86_400) {
            throw ValidationError("\(flag) must be between \(minimum) and 86400 seconds, got \(value)")
        }
        if let readings, readings < 1 { throw ValidationError("--readings must be at least 1, got \(readings)") }
    }

    func run() async throws {
        var configuration = try config.map { try CoreConfiguration.load(file: $0) } ?? CoreConfiguration()
        if cloud && configuration.cloud.endpoint == nil {
            throw ValidationError("--cloud: \(config ?? "the configuration") has no cloud.endpoint (see docs/cloud.md)")
        }
        // Absolute: the group file's path goes to the daemon, which resolves nothing against the caller's directory.
        let dataDirectory = URL(fileURLWithPath: self.dataDirectory).standardizedFileURL.path
        configuration.dataDirectory = dataDirectory
        configuration.mqtt.port = mqttPort ?? (PortProbe.isFree(1883, on: configuration.mqtt.bind) ? 1883 : 0)
        configuration.mqtt.tlsPort = mqttsPort ?? (PortProbe.isFree(8883, on: configuration.mqtt.bind) ? 8883 : 0)
        try configuration.validate()

        var settings = DemoSettings()
        settings.dataDirectory = dataDirectory
        settings.cloud = cloud
        settings.pipelineOnly = pipelineOnly
        settings.readingInterval = readingInterval
        settings.inferenceInterval = inferenceInterval
        settings.weatherCycle = weatherCycle
        settings.readingLimit = readings
        settings.seed = seed

        let live = isatty(STDOUT_FILENO) == 1 && !json
        let systemLog = SystemLog()
        // The view owns the terminal: the daemon logs to DATA_DIR/logs/system.log, and to stderr only warnings and
        // worse when the output is lines.
        LoggingBootstrap.start(level: configuration.logLevel, systemLog: systemLog, standardError: live ? .off : .atLeast(.warning))
        try await MossDemo.run(settings: settings, configuration: configuration, live: live, json: json, systemLog: systemLog)
    }
}
