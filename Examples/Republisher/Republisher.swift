// The Swift analogue of the tutorial's republishing function (seed 001, "Build the republishing Lambda
// function"): it takes a sensor reading, compensates the temperature for the CPU's heat, publishes the result and
// writes it into the sensor's shadow as its reported state. See Examples/README.md for building and deploying it.
import MossFunctionKit

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What the sensor publishes on `bme680/readings`.
struct Reading: Decodable, Sendable {
    var temperature: Double
    var humidity: Double
    var pressure: Double
    var message: String?
}

/// What the function publishes and reports: the tutorial's `message["state"]["reported"]`.
struct Compensated: Codable, Sendable {
    var temperature: Double
    var pressure: Double
    var humidity: Double
    var message: String?
}

struct ShadowUpdate: Encodable {
    struct State: Encodable { var reported: Compensated }
    var state: State
}

/// The CPU's temperature in °C, where the machine has a thermal zone (the tutorial's Raspberry Pi does).
func cpuTemperature() -> Double? {
    guard let data = try? Data(contentsOf: URL(fileURLWithPath: "/sys/class/thermal/thermal_zone0/temp")),
        let text = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isWhitespace).first,
        let millidegrees = Double(text)
    else { return nil }
    return millidegrees / 1000
}

@main
struct Republisher {
    static func main() async {
        let environment = ProcessInfo.processInfo.environment
        // The group sets these, as the tutorial sets THING_NAME for its function.
        let thingName = environment["THING_NAME"] ?? "bme680-sensor"
        let outputTopic = environment["OUTPUT_TOPIC"] ?? "bme680/compensated"

        await FunctionRuntime.run { (reading: Reading, context: FunctionContext) -> Compensated in
            // The tutorial's compensation: twice the sensor's temperature less the CPU's, when there is a CPU reading.
            let temperature = cpuTemperature().map { 2 * reading.temperature - $0 } ?? reading.temperature
            let compensated = Compensated(
                temperature: temperature,
                pressure: reading.pressure,
                humidity: reading.humidity,
                message: reading.message
            )
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try await context.client.publish(topic: outputTopic, payload: Array(try encoder.encode(compensated)))
            let update = try encoder.encode(ShadowUpdate(state: .init(reported: compensated)))
            _ = try await context.client.updateThingShadow(thingName: thingName, payload: Array(update))
            return compensated
        }
    }
}
