import Foundation
import Logging
import MossCore
import ServiceLifecycle

/// The demo's part of the daemon's service group: once the daemon answers, it deploys the demo group, starts the
/// sensor and shows what happens, until the daemon shuts down (Ctrl-C). Started last, it stops first.
final class DemoService: Service {
    private let settings: DemoSettings
    private let layout: DemoWorkspace.Layout
    private let mode: DemoDisplay.Mode
    private let logger: Logger
    private let say: @Sendable (String) -> Void

    init(settings: DemoSettings, layout: DemoWorkspace.Layout, mode: DemoDisplay.Mode, logger: Logger, say: @escaping @Sendable (String) -> Void) {
        self.settings = settings
        self.layout = layout
        self.mode = mode
        self.logger = logger
        self.say = say
    }

    func run() async throws {
        let client = AdminClient(dataDirectory: settings.dataDirectory)
        guard let status = await waitForDaemon(client) else { return }
        say("Deploying the tutorial's group (\(layout.groupFile)); the models install through the resources path …")
        let record: DeploymentRecord
        do {
            record = try await client.deploy(file: layout.groupFile)
        } catch {
            throw DemoError("the demo group could not be deployed: \(error)")
        }
        guard record.status == .success else {
            throw DemoError("the demo group was refused: " + record.errorDetails.map(\.detailedErrorMessage).joined(separator: "; "))
        }
        guard let tls = status.listeners.first(where: \.tls) else {
            throw DemoError("the daemon has no TLS listener for the sensor; is \(settings.dataDirectory)/certs complete?")
        }
        let certificates = DataDirectory(path: settings.dataDirectory).certificates
        var sensorLogger = logger
        sensorLogger[metadataKey: "component"] = "demo-sensor"
        let sensor = try await SensorSimulator(
            host: "localhost",
            port: tls.port,
            certificates: (
                certificates.caCertificate, certificates.deviceCertificate(DemoWorkspace.thing),
                certificates.devicePrivateKey(DemoWorkspace.thing)
            ),
            settings: settings,
            logger: sensorLogger
        )
        say(
            mode == .live
                ? "Running. The first predictions come within \(Int(settings.inferenceInterval) + 5) s."
                : "Running: the sensor publishes every \(settings.readingInterval) s; one line per new prediction follows."
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await sensor.run() }
            group.addTask { await cancelWhenGracefulShutdown { await self.show(client: client, sensor: sensor) } }
            try await group.waitForAll()
        }
    }

    /// The daemon's status once its admin API answers; nil when shutdown came first.
    private func waitForDaemon(_ client: AdminClient) async -> AdminStatus? {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            if let status = try? await client.status() { return status }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }

    private func show(client: AdminClient, sensor: SensorSimulator) async {
        var display = DemoDisplay(mode: mode, settings: settings)
        let started = ContinuousClock.now
        // Lines must catch every prediction; the live view redraws once a second.
        let period = mode == .live ? Duration.seconds(1) : .milliseconds(Int64(min(250, settings.inferenceInterval * 250)))
        if mode == .live { Terminal.write("\u{1B}[?25l\u{1B}[2J") }
        defer { if mode == .live { Terminal.write("\u{1B}[?25h\n") } }
        while !Task.isCancelled {
            display.show(await DemoSnapshot.read(client: client, sensor: sensor), started: started)
            try? await Task.sleep(for: period)
        }
    }
}
