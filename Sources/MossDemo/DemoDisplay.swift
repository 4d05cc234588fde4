import Foundation
import MossCore

/// Shows the demo: a live view redrawn in place on a terminal, else one line per new prediction (text or JSON).
struct DemoDisplay {
    enum Mode { case live, lines, json }

    let mode: Mode
    let settings: DemoSettings
    private var lastFunctionStamp: Double?
    private var lastPipelineStamp: Double?
    private var previous: (at: ContinuousClock.Instant, received: UInt64, sent: UInt64)?
    private var rates = (received: 0.0, sent: 0.0)

    init(mode: Mode, settings: DemoSettings) {
        self.mode = mode
        self.settings = settings
    }

    mutating func show(_ snapshot: DemoSnapshot, started: ContinuousClock.Instant) {
        let now = ContinuousClock.now
        if let previous, now > previous.at {
            let seconds = (now - previous.at) / .seconds(1)
            rates = (
                Double(snapshot.messagesReceived &- previous.received) / seconds,
                Double(snapshot.messagesSent &- previous.sent) / seconds
            )
        }
        previous = (now, snapshot.messagesReceived, snapshot.messagesSent)
        switch mode {
        case .live: Terminal.write(render(snapshot, uptime: now - started))
        case .lines, .json: printNewPredictions(snapshot)
        }
    }

    // MARK: Lines

    private mutating func printNewPredictions(_ snapshot: DemoSnapshot) {
        let newFunction = snapshot.function.map { $0.stamp != lastFunctionStamp } ?? false
        let newPipeline = snapshot.pipeline.map { $0.stamp != lastPipelineStamp } ?? false
        guard newFunction || newPipeline else { return }
        lastFunctionStamp = snapshot.function?.stamp ?? lastFunctionStamp
        lastPipelineStamp = snapshot.pipeline?.stamp ?? lastPipelineStamp
        if mode == .json {
            var line: [String: Any] = [
                "time": Self.timestamp(), "newFunctionPrediction": newFunction, "newPipelinePrediction": newPipeline,
                "shadow": snapshot.reported, "shadowVersion": snapshot.shadowVersion ?? 0,
            ]
            if let reading = snapshot.reading {
                line["reading"] = ["number": reading.number, "raining": reading.reading.raining, "sent": reading.payload]
            }
            if let function = snapshot.function {
                line["function"] = ["rain_prediction": function.rain, "rain_probability": function.probability]
            }
            if let pipeline = snapshot.pipeline {
                line["pipeline"] = ["rain_prediction": pipeline.rain, "rain_probability": pipeline.probability, "runs": Int(pipeline.stamp)]
            }
            if let data = try? JSONSerialization.data(withJSONObject: line, options: [.sortedKeys]) {
                Terminal.write(String(decoding: data, as: UTF8.self) + "\n")
            }
            return
        }
        // One line per new prediction, naming who made it, with the shadow state it saw.
        let readings = Self.readings(snapshot.reported)
        if newFunction, let function = snapshot.function {
            Terminal.write(Self.clock() + "  " + readings + "  →  function rain_inference: " + Self.verdict(function) + "\n")
        }
        if newPipeline, let pipeline = snapshot.pipeline {
            Terminal.write(Self.clock() + "  " + readings + "  →  pipeline rain-native:    " + Self.verdict(pipeline) + "\n")
        }
    }

    // MARK: Live view

    private func render(_ snapshot: DemoSnapshot, uptime: Duration) -> String {
        let bold = "\u{1B}[1m", dim = "\u{1B}[2m", reset = "\u{1B}[0m", clearLine = "\u{1B}[K"
        var lines: [String] = []
        let seconds = Int(uptime / .seconds(1))
        lines.append("\(bold)Moss demo: the rain-prediction tutorial at the edge\(reset)    up \(seconds / 60)m \(String(format: "%02d", seconds % 60))s    Ctrl-C stops")
        let ports = snapshot.listeners.map { "\($0.tls ? "MQTT/TLS" : "MQTT") \($0.host):\($0.port)" }.joined(separator: "  ")
        lines.append("\(dim)data \(settings.dataDirectory)   \(ports)\(reset)")
        lines.append("")
        lines.append("\(bold)Sensor\(reset) \(DemoWorkspace.thing) (simulated BME680, mutual TLS, every \(Self.number(settings.readingInterval)) s on \(DemoGroup.readingsTopic))")
        if let reading = snapshot.reading {
            let age = Int((ContinuousClock.now - reading.at) / .seconds(1))
            lines.append(
                "  #\(reading.number)  \(Self.readings(reading.payload))   \(dim)\(age) s ago; the sky: \(reading.reading.raining ? "raining" : "dry")\(reset)"
            )
        } else {
            lines.append("  \(snapshot.sensorConnected ? "connected, first reading soon" : "connecting …")")
        }
        lines.append("")
        lines.append("\(bold)Local shadow\(reset) \(DemoWorkspace.thing), reported\(snapshot.shadowVersion.map { " (version \($0))" } ?? "")")
        lines.append("  " + (snapshot.reported.isEmpty ? "no readings yet" : Self.readings(snapshot.reported)))
        lines.append("")
        lines.append("\(bold)Rain prediction\(reset) (standardiser → rain_predictor, threshold 0.5, every \(Self.number(settings.inferenceInterval)) s)")
        lines.append("  Python function rain_inference (inference service): " + (snapshot.function.map(Self.verdict) ?? "waiting for readings"))
        lines.append("  Declarative pipeline \(DemoGroup.pipeline) (no code):       " + (snapshot.pipeline.map(Self.verdict) ?? (snapshot.pipelineError.map { "waiting: \($0)" } ?? "waiting")))
        lines.append("")
        let functions = snapshot.functions.map { "\($0.name) \($0.workers.joined(separator: "/"))" }.joined(separator: " · ")
        lines.append("\(bold)Functions\(reset) " + (functions.isEmpty ? "none (the pipeline runs alone)" : functions))
        lines.append(
            "\(bold)Broker\(reset) \(snapshot.clients) client\(snapshot.clients == 1 ? "" : "s") · "
                + String(format: "%.1f msg/s in · %.1f msg/s out", rates.received, rates.sent)
        )
        lines.append("\(dim)Logs: moss logs system|function:republisher|function:rain_inference --data-dir \(settings.dataDirectory)\(reset)")
        return "\u{1B}[H" + lines.map { $0 + clearLine }.joined(separator: "\n") + "\n\u{1B}[J"
    }

    // MARK: Formatting

    private static func readings(_ values: [String: Double]) -> String {
        let parts: [(String, String, String)] = [("temperature", "°C", "%.1f"), ("humidity", "%", "%.1f"), ("pressure", "hPa", "%.1f")]
        return parts.compactMap { key, unit, format in
            values[key].map { "\(key) \(String(format: format, $0)) \(unit)" }
        }.joined(separator: "  ")
    }

    private static func verdict(_ prediction: DemoSnapshot.Prediction) -> String {
        (prediction.rain == 1 ? "RAIN   " : "no rain") + String(format: " (p = %.3f)", prediction.probability)
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }

    /// The machine's local time, from the C library: the daemon's Foundation default time zone is UTC.
    private static func clock() -> String {
        var seconds = time(nil)
        var parts = tm()
        localtime_r(&seconds, &parts)
        var text = [CChar](repeating: 0, count: 16)
        let count = strftime(&text, text.count, "%H:%M:%S", &parts)
        return String(decoding: text[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func timestamp() -> String {
        ISO8601DateFormatter().string(from: Date())
    }
}
