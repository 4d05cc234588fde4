import Foundation
import Logging
import MossBroker
import ServiceLifecycle

/// What `DATA_DIR/ports.json` holds: the ports the daemon really bound (port 0 means "any free port").
public struct DaemonPorts: Codable, Sendable, Hashable {
    public var mqtt: Int
    /// Present only when the TLS listener runs.
    public var mqtts: Int?
    /// Absolute path of the admin socket.
    public var admin: String

    public init(mqtt: Int, mqtts: Int?, admin: String) {
        self.mqtt = mqtt
        self.mqtts = mqtts
        self.admin = admin
    }
}

/// Waits until the broker's listeners and the admin socket are bound, then writes `ports.json` and logs
/// the one "ready" line; removes `ports.json` again on shutdown so it never describes a stopped daemon.
final class ReadinessService: Service, CustomStringConvertible {
    private let broker: MQTTBroker
    private let adminBound: ReadinessSignal
    private let dataDirectory: DataDirectory
    private let logger: Logger

    init(broker: MQTTBroker, adminBound: ReadinessSignal, dataDirectory: DataDirectory, logger: Logger) {
        self.broker = broker
        self.adminBound = adminBound
        self.dataDirectory = dataDirectory
        self.logger = logger
    }

    var description: String { "ReadinessService" }

    func run() async throws {
        let listeners = try await broker.boundListeners()
        try await adminBound.wait()
        let ports = DaemonPorts(
            mqtt: listeners.first { !$0.tls }?.port ?? 0,
            mqtts: listeners.first { $0.tls }?.port,
            admin: dataDirectory.adminSocket
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(
            String(decoding: try encoder.encode(ports), as: UTF8.self) + "\n",
            to: dataDirectory.portsFile,
            mode: 0o644
        )
        defer { unlink(dataDirectory.portsFile) }

        var metadata: Logger.Metadata = ["mqtt.port": "\(ports.mqtt)", "admin.socket": "\(ports.admin)"]
        if let mqtts = ports.mqtts {
            metadata["mqtts.port"] = "\(mqtts)"
        }
        logger.info("ready", metadata: metadata)

        // Stay up until shutdown: a service that returns would end the whole group.
        try? await gracefulShutdown()
    }
}
