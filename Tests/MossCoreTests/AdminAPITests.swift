import Foundation
import Hummingbird
import Logging
import MossBroker
import MossTestSupport
import ServiceLifecycleTestKit
import Testing

@testable import MossCore

@Suite("Admin API over the Unix socket")
struct AdminAPITests {
    /// Routes that exist only to exercise the error paths.
    struct FailingRoutes: AdminRoutes {
        struct Unexpected: Error {}

        func register(on v1: RouterGroup<BasicRequestContext>) {
            v1.get("conflict") { _, _ -> Response in throw AdminAPIError.conflict("version 3 is not 2") }
            v1.get("crash") { _, _ -> Response in throw Unexpected() }
        }
    }

    /// Runs an admin server with the status routes (and the failing ones) for the duration of `body`.
    func withAdminServer(_ body: @Sendable (AdminClient, String) async throws -> Void) async throws {
        try await withTemporaryDirectory { directory in
            let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
            let bound = ReadinessSignal()
            let server = AdminServer(
                socketPath: DataDirectory(path: directory).adminSocket,
                routes: [
                    StatusRoutes(statistics: { Self.statistics }, dataDirectory: directory, startedAt: .now),
                    FailingRoutes(),
                ],
                bound: bound,
                logger: logger
            )
            // Graceful shutdown rather than cancellation: cancelling a server with an accepted connection
            // still buffered traps in NIO (apple/swift-nio#3481).
            try await testGracefulShutdown { trigger in
                try await withThrowingTaskGroup { group in
                    group.addTask { try await server.run() }
                    try await bound.wait()
                    try await body(AdminClient(dataDirectory: directory), directory)
                    trigger.triggerGracefulShutdown()
                    try await group.waitForAll()
                }
            }
        }
    }

    static let statistics = BrokerStatistics(
        listeners: [
            .init(name: "mqtt", host: "127.0.0.1", port: 1883, tls: false),
            .init(name: "mqtts", host: "127.0.0.1", port: 8883, tls: true),
        ],
        clients: [
            .init(
                clientID: "c1",
                identity: "sensor-1",
                listener: "mqtts",
                peer: "127.0.0.1:50000",
                protocolVersion: "5.0",
                connectedAt: 1_700_000_000
            )
        ],
        sessions: 3,
        retainedMessages: 4,
        messagesReceived: 10,
        messagesSent: 20,
        messagesDropped: 1
    )

    @Test(.timeLimit(.minutes(1))) func statusReportsTheBrokerVersionAndUptime() async throws {
        try await withAdminServer { client, directory in
            let status = try await client.status()
            #expect(status.version == MossVersion.current)
            #expect(status.dataDirectory == directory)
            #expect(status.uptimeSeconds >= 0)
            #expect(
                status.listeners == [
                    .init(name: "mqtt", host: "127.0.0.1", port: 1883, tls: false),
                    .init(name: "mqtts", host: "127.0.0.1", port: 8883, tls: true),
                ]
            )
            #expect(
                status.clients == [
                    .init(
                        clientID: "c1",
                        identity: "sensor-1",
                        listener: "mqtts",
                        peer: "127.0.0.1:50000",
                        protocolVersion: "5.0",
                        connectedAt: 1_700_000_000
                    )
                ]
            )
            #expect(status.sessions == 3)
            #expect(status.retainedMessages == 4)
            #expect(status.messages == .init(received: 10, sent: 20, dropped: 1))
            #expect(try mode(of: client.socketPath) == 0o600)
        }
    }

    @Test(.timeLimit(.minutes(1))) func errorsAreJSONWithStatusAndCode() async throws {
        try await withAdminServer { client, _ in
            await #expect(throws: AdminClientError.server(status: 409, code: "conflict", message: "version 3 is not 2"))
            {
                let _: AdminStatus = try await client.get("/v1/conflict")
            }
            await #expect(
                throws: AdminClientError.server(status: 404, code: "not_found", message: "no route for GET /v1/nope")
            ) {
                let _: AdminStatus = try await client.get("/v1/nope")
            }
            let error = await #expect(throws: AdminClientError.self) {
                let _: AdminStatus = try await client.get("/v1/crash")
            }
            guard case .server(500, "internal", _) = error else {
                Issue.record("expected a 500 internal error, got \(String(describing: error))")
                return
            }
        }
    }

    @Test func clientSaysTheDaemonIsNotRunningWithoutASocket() async throws {
        try await withTemporaryDirectory { directory in
            let error = await #expect(throws: AdminClientError.self) {
                try await AdminClient(dataDirectory: directory).status()
            }
            #expect(error?.description.contains("Moss is not running") == true)
            #expect(error?.description.contains(directory + "/moss.sock") == true)
        }
    }

    @Test func clientSaysTheDaemonIsNotRunningWithAStaleSocket() async throws {
        try await withTemporaryDirectory { directory in
            // A regular file where the socket should be: what a crashed daemon's leftover looks like to connect().
            #expect(FileManager.default.createFile(atPath: directory + "/moss.sock", contents: Data()))
            let error = await #expect(throws: AdminClientError.self) {
                try await AdminClient(dataDirectory: directory).status()
            }
            guard case .notRunning = error else {
                Issue.record("expected notRunning, got \(String(describing: error))")
                return
            }
        }
    }
}
