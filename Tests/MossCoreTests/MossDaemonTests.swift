import Foundation
import InMemoryLogging
import Logging
import MossTestSupport
import ServiceLifecycleTestKit
import Testing

@testable import MossCore

@Suite("MossDaemon")
struct MossDaemonTests {
    func configuration(in directory: String) -> CoreConfiguration {
        var configuration = CoreConfiguration(dataDirectory: directory)
        configuration.mqtt.port = 0
        configuration.mqtt.tlsPort = 0
        return configuration
    }

    func readPorts(_ dataDirectory: DataDirectory) throws -> DaemonPorts? {
        guard let data = FileManager.default.contents(atPath: dataDirectory.portsFile) else { return nil }
        return try JSONDecoder().decode(DaemonPorts.self, from: data)
    }

    @Test(.timeLimit(.minutes(1))) func startsWritesPortsServesStatusAndCleansUp() async throws {
        try await withTemporaryDirectory { directory in
            let logs = InMemoryLogHandler()
            let daemon = MossDaemon(
                configuration: configuration(in: directory),
                logger: Logger(label: "test") { _ in logs }
            )
            let dataDirectory = DataDirectory(path: directory)

            // Graceful shutdown, as SIGTERM does: cancelling a server with an accepted connection still
            // buffered traps in NIO (apple/swift-nio#3481).
            try await testGracefulShutdown { trigger in
                try await withThrowingTaskGroup { group in
                    group.addTask { try await daemon.run() }
                    try await waitUntil("ports.json is written") {
                        FileManager.default.fileExists(atPath: dataDirectory.portsFile)
                    }

                    let ports = try #require(try readPorts(dataDirectory))
                    #expect(ports.mqtt > 0)
                    #expect(ports.mqtts == nil)  // no certificates: no TLS listener
                    #expect(ports.admin == dataDirectory.adminSocket)

                    let ready = logs.entries.filter { $0.message == "ready" }
                    #expect(ready.count == 1)
                    #expect(ready.first?.level == .info)
                    #expect(ready.first?.metadata["mqtt.port"] == "\(ports.mqtt)")

                    let status = try await AdminClient(dataDirectory: directory).status()
                    #expect(status.listeners.map(\.port) == [ports.mqtt])
                    #expect(status.version == MossVersion.current)

                    // A second daemon on the same data directory refuses to start.
                    await #expect(throws: DaemonError.alreadyRunning(dataDirectory: dataDirectory.path)) {
                        try await MossDaemon(
                            configuration: configuration(in: directory),
                            logger: Logger(label: "second")
                        )
                        .run()
                    }
                    #expect(try await AdminClient(dataDirectory: directory).status().version == MossVersion.current)

                    trigger.triggerGracefulShutdown()
                    try await group.waitForAll()
                }
            }
            #expect(!FileManager.default.fileExists(atPath: dataDirectory.portsFile))
            #expect(!FileManager.default.fileExists(atPath: dataDirectory.adminSocket))
            #expect(FileManager.default.fileExists(atPath: dataDirectory.database))
        }
    }

    @Test(.timeLimit(.minutes(1))) func opensTheTLSListenerWhenCertificatesExist() async throws {
        try await withTemporaryDirectory { directory in
            let dataDirectory = DataDirectory(path: directory)
            _ = try dataDirectory.certificates.initialize(names: SubjectAlternativeName.defaults)
            let daemon = MossDaemon(
                configuration: configuration(in: directory),
                logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
            )

            // Graceful shutdown, as SIGTERM does: cancelling a server with an accepted connection still
            // buffered traps in NIO (apple/swift-nio#3481).
            try await testGracefulShutdown { trigger in
                try await withThrowingTaskGroup { group in
                    group.addTask { try await daemon.run() }
                    try await waitUntil("ports.json is written") {
                        FileManager.default.fileExists(atPath: dataDirectory.portsFile)
                    }
                    let ports = try #require(try readPorts(dataDirectory))
                    let mqtts = try #require(ports.mqtts)
                    #expect(mqtts > 0 && mqtts != ports.mqtt)
                    let status = try await AdminClient(dataDirectory: directory).status()
                    #expect(status.listeners.filter(\.tls).map(\.port) == [mqtts])
                    trigger.triggerGracefulShutdown()
                    try await group.waitForAll()
                }
            }
        }
    }

    @Test func aConfiguredButMissingTLSFileIsNamed() async throws {
        try await withTemporaryDirectory { directory in
            var configuration = configuration(in: directory)
            configuration.mqtt.tls = .init(
                certificate: directory + "/nope.pem",
                privateKey: directory + "/k",
                caCertificate: directory + "/ca"
            )
            await #expect(throws: DaemonError.tlsFile(key: "mqtt.tls.certificate", path: directory + "/nope.pem")) {
                try await MossDaemon(configuration: configuration, logger: Logger(label: "test")).run()
            }
        }
    }

    @Test func aStaleSocketAndPortsFileAreReplaced() async throws {
        try await withTemporaryDirectory { directory in
            let dataDirectory = DataDirectory(path: directory)
            #expect(FileManager.default.createFile(atPath: dataDirectory.adminSocket, contents: Data("stale".utf8)))
            #expect(FileManager.default.createFile(atPath: dataDirectory.portsFile, contents: Data("{}".utf8)))
            let daemon = MossDaemon(
                configuration: configuration(in: directory),
                logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
            )
            // Graceful shutdown, as SIGTERM does: cancelling a server with an accepted connection still
            // buffered traps in NIO (apple/swift-nio#3481).
            try await testGracefulShutdown { trigger in
                try await withThrowingTaskGroup { group in
                    group.addTask { try await daemon.run() }
                    try await waitUntil("a fresh ports.json is written") { (try? readPorts(dataDirectory)) != nil }
                    #expect(try await AdminClient(dataDirectory: directory).status().version == MossVersion.current)
                    trigger.triggerGracefulShutdown()
                    try await group.waitForAll()
                }
            }
        }
    }
}
