import Foundation
import Logging
import MossBroker
import NIOCore
import NIOPosix

/// Runs an in-process broker on a free loopback port for the duration of `body`.
func withBroker<T>(
    configuration: BrokerConfiguration = BrokerConfiguration(listeners: [.init(name: "mqtt", host: "127.0.0.1", port: 0)]),
    persistence: (any BrokerPersistence)? = nil,
    _ body: (MQTTBroker, Int) async throws -> T
) async throws -> T {
    var logger = Logger(label: "broker-test")
    logger.logLevel = .warning
    let broker = MQTTBroker(configuration: configuration, persistence: persistence, logger: logger)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await broker.run() }
        let port = try await broker.boundListeners()[0].port
        do {
            let result = try await body(broker, port)
            group.cancelAll()
            try await group.waitForAll()
            return result
        } catch {
            group.cancelAll()
            try? await group.waitForAll()
            throw error
        }
    }
}

/// Runs a command to completion and returns its standard output.
func run(_ executable: String, _ arguments: [String], timeout: Duration = .seconds(10)) async throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    let deadline = ContinuousClock.now + timeout
    while process.isRunning && ContinuousClock.now < deadline {
        try await Task.sleep(for: .milliseconds(10))
    }
    if process.isRunning { process.terminate() }
    process.waitUntilExit()
    return String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
}
