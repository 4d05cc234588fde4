public import Logging
public import NIOCore
public import ServiceLifecycle

/// The MQTT broker as a `Service`: binds its listeners in `run()` and serves until graceful shutdown.
/// (Skeleton: the real implementation replaces this body.)
public final class MQTTBroker: Service, Sendable, CustomStringConvertible {
    public let configuration: BrokerConfiguration
    private let logger: Logger

    public init(
        configuration: BrokerConfiguration,
        persistence: (any BrokerPersistence)? = nil,
        interceptor: any BrokerInterceptor = DefaultBrokerInterceptor(),
        logger: Logger,
        eventLoopGroup: (any EventLoopGroup)? = nil
    ) {
        self.configuration = configuration
        self.logger = logger
    }

    public var description: String { "MQTTBroker" }

    public func run() async throws {
        try await gracefulShutdown()
    }

    /// Waits until every listener is bound and returns them (with the real ports).
    public func boundListeners() async throws -> [BoundListener] { [] }

    /// Publishes a message from a non-MQTT endpoint (a function, the shadow service, the cloud).
    public func inject(_ message: BrokerMessage, from endpoint: String) {}

    /// A snapshot of listeners, clients and counters.
    public func statistics() -> BrokerStatistics { BrokerStatistics() }
}
