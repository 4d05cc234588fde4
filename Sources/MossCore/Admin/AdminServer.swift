import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// The admin API's HTTP server on the Unix socket `DATA_DIR/moss.sock`, as a `Service`.
final class AdminServer: Service, CustomStringConvertible {
    let socketPath: String
    private let routes: [any AdminRoutes]
    private let bound: ReadinessSignal
    private let startWhen: @Sendable () async -> Bool
    private let logger: Logger

    /// - Parameter startWhen: awaited before binding; `false` means "never start" (what it waited for failed,
    ///   and the group is stopping), so a failed start does not also log the admin server's cancellation.
    init(
        socketPath: String,
        routes: [any AdminRoutes],
        bound: ReadinessSignal,
        startWhen: @escaping @Sendable () async -> Bool = { true },
        logger: Logger
    ) {
        self.socketPath = socketPath
        self.routes = routes
        self.bound = bound
        self.startWhen = startWhen
        self.logger = logger
    }

    var description: String { "AdminServer(\(socketPath))" }

    func run() async throws {
        guard await startWhen() else {
            try? await gracefulShutdown()
            return
        }
        let socketPath = self.socketPath
        let bound = self.bound
        let logger = self.logger
        let application = Application(
            // Built here: a Router is not Sendable, and a Service must be.
            router: AdminRouter.make(routes: routes, logger: logger),
            configuration: ApplicationConfiguration(address: .unixDomainSocket(path: socketPath), serverName: nil),
            onServerRunning: { _ in
                // The data directory is 0700 already; 0600 keeps the socket private even if it is moved or relaxed.
                if chmod(socketPath, 0o600) != 0 {
                    logger.warning(
                        "Could not restrict the admin socket's mode",
                        metadata: ["admin.socket": "\(socketPath)"]
                    )
                }
                bound.signal()
            },
            logger: logger
        )
        defer { unlink(socketPath) }
        try await application.run()
    }
}

/// A one-shot "it happened" flag that one task can wait for.
final class ReadinessSignal: Sendable {
    private let stream: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    init() {
        (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    func signal() {
        continuation.yield()
        continuation.finish()
    }

    /// Returns once ``signal()`` was called; throws `CancellationError` if the task is cancelled first.
    func wait() async throws {
        for await _ in stream { return }
        try Task.checkCancellation()
        throw CancellationError()
    }
}
