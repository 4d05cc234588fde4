import Foundation
import Logging
import MossCloud
import ServiceLifecycle
import Synchronization

/// The tutorial's BME680 device: connects to the core over mutual TLS with its certificate from `moss certs` (with
/// Moss's own MQTT client) and publishes a JSON reading on `bme680/readings` every interval, from ``Weather``.
final class SensorSimulator: Service, Sendable {
    struct Published: Sendable {
        var number: Int
        var reading: Weather.Reading
        /// What was sent: the temperature as the sensor measured it (warmed by the CPU on a Pi).
        var payload: [String: Double]
        var at: ContinuousClock.Instant
    }

    private let client: CloudMQTTClient
    private let spooler: CloudSpooler
    private let settings: DemoSettings
    private let state: Mutex<(weather: Weather, latest: Published?)>
    private let started = ContinuousClock.now

    init(host: String, port: Int, certificates: (ca: String, certificate: String, key: String), settings: DemoSettings, logger: Logger) async throws {
        let configuration = CloudConnectionConfiguration(
            host: host,
            port: port,
            certificate: certificates.certificate,
            privateKey: certificates.key,
            caCertificate: certificates.ca,
            keepAlive: .seconds(30),
            minimumBackoff: .milliseconds(200),
            maximumBackoff: .seconds(5)
        )
        spooler = try await CloudSpooler.open(storage: MemorySpoolStorage(), logger: logger)
        client = CloudMQTTClient(
            configuration: configuration,
            tlsContext: try CloudTLS.context(for: configuration),
            clientID: { DemoWorkspace.thing },
            spooler: spooler,
            logger: logger,
            onMessage: { _, _ in }
        )
        self.settings = settings
        state = Mutex((Weather(cycle: settings.weatherCycle, seed: settings.seed), nil))
    }

    var latest: Published? { state.withLock { $0.latest } }
    var connected: Bool { client.status.state == .connected }

    func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.spooler.run() }
            group.addTask { try await self.client.run() }
            group.addTask { await cancelWhenGracefulShutdown { await self.publishReadings() } }
            try await group.waitForAll()
        }
    }

    private func publishReadings() async {
        let interval = Duration.milliseconds(Int64((settings.readingInterval * 1000).rounded()))
        var number = 0
        while !Task.isCancelled, settings.readingLimit.map({ number < $0 }) ?? true {
            number += 1
            let elapsed = (ContinuousClock.now - started) / .seconds(1)
            let reading = state.withLock { $0.weather.reading(at: elapsed) }
            // On a Pi the sensor sits above the CPU and reads halfway between the air and the CPU; the republishing
            // function compensates (the tutorial's formula), so the shadow gets the air's temperature again.
            let measured = Self.cpuTemperature().map { (reading.temperature + $0) / 2 } ?? reading.temperature
            let payload = [
                "temperature": Self.rounded(measured), "humidity": Self.rounded(reading.humidity),
                "pressure": Self.rounded(reading.pressure),
            ]
            var object: [String: Any] = payload
            object["message"] = "reading \(number) from the simulated BME680"
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
            spooler.enqueue(topic: DemoGroup.readingsTopic, payload: Array(data))
            state.withLock { $0.latest = Published(number: number, reading: reading, payload: payload, at: .now) }
            try? await Task.sleep(for: interval)
        }
    }

    private static func rounded(_ value: Double) -> Double { (value * 100).rounded() / 100 }

    static func cpuTemperature() -> Double? {
        guard let text = try? String(contentsOfFile: "/sys/class/thermal/thermal_zone0/temp", encoding: .utf8),
            let milli = Double(text.trimmingCharacters(in: .whitespacesAndNewlines))
        else { return nil }
        return milli / 1000
    }
}
