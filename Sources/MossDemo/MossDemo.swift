import Foundation
import Logging
public import MossCore
public import MossLogging
import ServiceLifecycle

/// `moss demo`: the rain-prediction tutorial on embedded defaults. Lays out the demo in the data directory, then runs
/// the daemon with the demo (deploy, sensor, view) as its last service; Ctrl-C stops all of it cleanly.
public enum MossDemo {
    /// Lays out the demo and runs it. `configuration` is the daemon's (its data directory is the demo's).
    public static func run(settings: DemoSettings, configuration: CoreConfiguration, live: Bool, json: Bool, systemLog: SystemLog) async throws {
        let say: @Sendable (String) -> Void = { line in Terminal.write(line + "\n") }
        let layout = try DemoWorkspace(settings: settings, say: say).prepare()
        let mode: DemoDisplay.Mode = json ? .json : live ? .live : .lines
        let logger = Logger(label: "moss")
        let demo = DemoService(settings: settings, layout: layout, mode: mode, logger: logger, say: say)
        try await MossDaemon(
            configuration: configuration,
            logger: logger,
            systemLog: systemLog,
            // The demo ending (a refused deployment) stops the daemon gracefully, as Ctrl-C does.
            companions: [
                .init(service: demo, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup)
            ]
        ).run()
        say(
            "Stopped. \(settings.dataDirectory) keeps the group, the shadow, the models and the logs "
                + "(`moss run --data-dir \(settings.dataDirectory)` serves them again)."
        )
    }
}
