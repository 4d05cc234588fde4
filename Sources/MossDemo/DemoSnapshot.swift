import Foundation
import MossCore
import MossShadow

/// What the demo shows at one moment: the sensor's last reading, the shadow, both predictions, the functions and
/// pipelines, and the broker's traffic. Read through the admin API, as `moss status` and `moss shadow get` read it.
struct DemoSnapshot: Sendable {
    struct Prediction: Sendable, Equatable {
        var rain: Int
        var probability: Double
        /// When it was written: the shadow's metadata timestamp (seconds) for the function, the run count for the
        /// pipeline; a change means a new prediction.
        var stamp: Double
    }

    var reading: SensorSimulator.Published?
    var sensorConnected = false
    var shadowVersion: Int?
    var reported: [String: Double] = [:]
    var function: Prediction?
    var pipeline: Prediction?
    var functions: [AdminStatus.Function] = []
    var pipelineError: String?
    var clients = 0
    var messagesReceived: UInt64 = 0
    var messagesSent: UInt64 = 0
    var listeners: [AdminStatus.Listener] = []

    /// Reads the status and the sensor's shadow.
    static func read(client: AdminClient, sensor: SensorSimulator?) async -> DemoSnapshot {
        var snapshot = DemoSnapshot()
        snapshot.reading = sensor?.latest
        snapshot.sensorConnected = sensor?.connected ?? false
        if let status = try? await client.status() {
            snapshot.functions = status.functions ?? []
            snapshot.clients = status.clients.count
            snapshot.messagesReceived = status.messages.received
            snapshot.messagesSent = status.messages.sent
            snapshot.listeners = status.listeners
            if let pipeline = status.pipelines?.first(where: { $0.id == DemoGroup.pipeline }) {
                snapshot.pipelineError = pipeline.lastError
                if let rain = pipeline.lastResult?.first, let probability = pipeline.lastScore?.first {
                    snapshot.pipeline = Prediction(rain: Int(rain), probability: probability, stamp: Double(pipeline.runs))
                }
            }
        }
        guard let body = try? await client.shadow(.get, thing: DemoWorkspace.thing),
            let document = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
        else { return snapshot }
        snapshot.shadowVersion = document["version"] as? Int
        let reported = ((document["state"] as? [String: Any])?["reported"] as? [String: Any]) ?? [:]
        for (key, value) in reported {
            if let number = value as? NSNumber { snapshot.reported[key] = number.doubleValue }
        }
        let metadata = ((document["metadata"] as? [String: Any])?["reported"] as? [String: Any]) ?? [:]
        if let rain = snapshot.reported["rain_prediction"], let probability = snapshot.reported["rain_probability"] {
            let stamp = ((metadata["rain_probability"] as? [String: Any])?["timestamp"] as? NSNumber)?.doubleValue ?? 0
            snapshot.function = Prediction(rain: Int(rain), probability: probability, stamp: stamp)
        }
        return snapshot
    }
}
