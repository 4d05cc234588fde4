import Foundation
import Logging
import MossAWS
import MossBroker
import MossCloud
import MossDeploy
import MossMQTT
import MossRouting
import MossShadow
import MossStore
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import ServiceLifecycle

/// Joins the cloud to the rest of Moss: messages routed to `cloud` go through the spooler to AWS IoT; messages from
/// the cloud on the filters of `cloud`-source routes enter the router as from `cloud`; the cloud's shadow topics go to
/// the shadow sync. Built only when `cloud.endpoint` is configured.
final class CloudLink: Sendable {
    /// The owners of cloud subscriptions (the client subscribes to the union).
    static let routesOwner = "routes"
    static let shadowSyncOwner = "shadow-sync"

    let spooler: CloudSpooler
    let client: CloudMQTTClient
    /// Nil when no AWS credentials were found for the data plane (logged at start).
    let sync: ShadowSync?
    private let routing: RoutingInterceptor
    private let shadows: ShadowService
    private let coreThing: NIOLockedValueBox<String?>
    private let joined = NIOLockedValueBox<(broker: MQTTBroker, functions: FunctionRouting)?>(nil)
    private let syncProblem: String?
    private let dataPlaneService: (any Service)?

    /// The cloud of `configuration`, or nil when none is configured. Bad files are configuration errors.
    static func make(
        configuration: CoreConfiguration,
        database: MossDatabase,
        shadows: ShadowService,
        routing: RoutingInterceptor,
        logger: Logger
    ) async throws -> CloudLink? {
        let cloud = configuration.cloud
        guard let endpoint = cloud.endpoint, let certificate = cloud.certificate, let privateKey = cloud.privateKey else {
            return nil
        }
        let connection = CloudConnectionConfiguration(
            host: endpoint,
            port: cloud.port,
            alpn: cloud.alpn,
            certificate: certificate,
            privateKey: privateKey,
            caCertificate: cloud.caCertificate,
            keepAlive: cloud.keepAlive,
            maximumBackoff: cloud.maximumReconnectDelay
        )
        let tls: NIOSSLContext
        do {
            tls = try CloudTLS.context(for: connection)
        } catch {
            throw ConfigurationError(key: "cloud.\(error.configurationKey ?? "certificate")", message: error.description)
        }
        let storage: any SpoolStorage =
            switch cloud.spooler.storage {
            case .fileSystem: CloudStoreAdapter(database: database)
            case .memory: MemorySpoolStorage()
            }
        let spooler = try await CloudSpooler.open(
            storage: storage,
            maximumBytes: cloud.spooler.maximumBytes,
            maximumInflight: cloud.maximumInflightMessages,
            logger: logger
        )
        let (dataPlane, dataPlaneService, syncProblem) = try Self.dataPlane(configuration, connection: connection)
        return CloudLink(
            configuration: configuration,
            connection: connection,
            tls: tls,
            spooler: spooler,
            dataPlane: dataPlane,
            dataPlaneService: dataPlaneService,
            syncProblem: syncProblem,
            database: database,
            shadows: shadows,
            routing: routing,
            logger: logger
        )
    }

    /// The data plane (and, for mutual TLS, the service that closes its HTTP client), or why shadow sync cannot run.
    private static func dataPlane(
        _ configuration: CoreConfiguration,
        connection: CloudConnectionConfiguration
    ) throws -> (plane: (any ShadowDataPlane)?, service: (any Service)?, problem: String?) {
        let cloud = configuration.cloud
        let host = cloud.endpoint ?? ""
        let url: String
        switch cloud.dataPlane.authentication {
        case .mutualTLS: url = cloud.dataPlane.endpoint ?? "https://\(host):8443"
        case .sigv4: url = cloud.dataPlane.endpoint ?? "https://\(host)"
        }
        let endpoint: AWSEndpoint
        do {
            endpoint = try AWSEndpoint(url: url)
        } catch {
            throw ConfigurationError(key: "cloud.dataPlane.endpoint", message: "\(error)")
        }
        switch cloud.dataPlane.authentication {
        case .mutualTLS:
            let tls: TLSConfiguration
            do {
                tls = try CloudTLS.configuration(for: connection, alpn: [])
            } catch {
                throw ConfigurationError(key: "cloud.\(error.configurationKey ?? "certificate")", message: error.description)
            }
            let plane = MutualTLSShadowDataPlane(endpoint: endpoint, tls: tls)
            return (plane, plane, nil)
        case .sigv4:
            let chain = AWSCredentialChain(environment: ProcessInfo.processInfo.environment, profile: cloud.dataPlane.profile)
            do {
                let credentials = try chain.resolve().credentials
                let client = AWSClient(
                    credentials: credentials,
                    endpoints: AWSEndpoints(region: configuration.region, iotDataEndpoint: endpoint),
                    timeout: .seconds(20)
                )
                return (AWSShadowDataPlane(client: client), nil, nil)
            } catch {
                return (nil, nil, "no AWS credentials for SigV4 (cloud.dataPlane.authentication: sigv4): \(error)")
            }
        }
    }

    private init(
        configuration: CoreConfiguration,
        connection: CloudConnectionConfiguration,
        tls: NIOSSLContext,
        spooler: CloudSpooler,
        dataPlane: (any ShadowDataPlane)?,
        dataPlaneService: (any Service)?,
        syncProblem: String?,
        database: MossDatabase,
        shadows: ShadowService,
        routing: RoutingInterceptor,
        logger: Logger
    ) {
        self.spooler = spooler
        self.routing = routing
        self.shadows = shadows
        self.syncProblem = syncProblem
        self.dataPlaneService = dataPlaneService
        let coreThing = NIOLockedValueBox<String?>(nil)
        self.coreThing = coreThing
        let configuredClientID = configuration.cloud.clientID
        let sink = CloudInbox()
        let client = CloudMQTTClient(
            configuration: connection,
            tlsContext: tls,
            clientID: { configuredClientID ?? coreThing.withLockedValue { $0 } },
            spooler: spooler,
            logger: logger,
            onMessage: { topic, payload in sink.receive(topic: topic, payload: payload) },
            onConnected: { sink.connected() }
        )
        self.client = client
        if let dataPlane {
            self.sync = ShadowSync(
                shadows: shadows,
                dataPlane: dataPlane,
                store: CloudStoreAdapter(database: database),
                logger: logger,
                subscribe: { filters in client.setSubscriptions(filters, owner: Self.shadowSyncOwner) }
            )
        } else {
            self.sync = nil
        }
        sink.attach(self)
    }

    /// Reports why shadow sync is off, if it is.
    func logStartProblems(_ logger: Logger) {
        if let syncProblem { logger.warning("Shadow sync is off", metadata: ["error": "\(syncProblem)"]) }
    }

    /// The broker and function router, once built (they are built after the cloud, which they route to).
    func attach(broker: MQTTBroker, functions: FunctionRouting) {
        joined.withLockedValue { $0 = (broker, functions) }
        // A device's QoS 1/2 publish for the cloud is acknowledged once the spool has committed it.
        routing.handleStoringEndpoints(of: "cloud") { [spooler] message, _, stored in
            spooler.enqueue(topic: message.topic, payload: Array(message.payload.readableBytesView), whenStored: stored)
        }
    }

    /// The spooler starts before the broker and stops after it, so what the broker accepts for the cloud up to its
    /// last moment is still committed.
    var spoolerService: ServiceGroupConfiguration.ServiceConfiguration { .init(service: spooler) }

    /// The connection, the data plane and the sync, which start after the shadow service and stop before it.
    var services: [ServiceGroupConfiguration.ServiceConfiguration] {
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: client)]
        // The data plane stops after the sync that calls it (services stop in reverse order).
        if let dataPlaneService { services.append(.init(service: dataPlaneService)) }
        if let sync { services.append(.init(service: sync)) }
        return services
    }

    // MARK: The deployed group

    /// Puts a group's cloud parts into effect: the filters of `cloud`-source routes, the shadows to sync, the core
    /// thing (the default client id).
    func apply(_ group: GroupDefinition?) {
        coreThing.withLockedValue { $0 = group?.core.thingName }
        let filters = Set(group?.subscriptions.filter { $0.source == .cloud }.map(\.subject) ?? [])
        client.setSubscriptions(filters, owner: Self.routesOwner)
        sync?.setTargets(group.map(Self.syncTargets) ?? [])
        client.clientIDMayHaveChanged()
    }

    static func syncTargets(_ group: GroupDefinition) -> [ShadowSync.Target] {
        var targets: [ShadowSync.Target] = []
        func add(thing: String, classic: Bool, named: [String], direction: GroupDefinition.SyncDirection) {
            let direction = ShadowSyncDirection(rawValue: direction.rawValue) ?? .both
            if classic { targets.append(.init(key: ShadowKey(thing: thing), direction: direction)) }
            for name in named { targets.append(.init(key: ShadowKey(thing: thing, name: name), direction: direction)) }
        }
        add(thing: group.core.thingName, classic: group.core.syncShadow, named: group.core.namedShadows, direction: group.core.syncDirection)
        for device in group.devices {
            add(thing: device.thingName, classic: device.syncShadow, named: device.namedShadows, direction: device.syncDirection)
        }
        return targets
    }

    // MARK: From the cloud

    fileprivate func receive(topic: String, payload: [UInt8]) {
        if let sync, sync.listens(to: topic) { sync.cloudMessage(topic: topic, payload: payload) }
        guard let table = routing.current, table.mayPublish(.cloud, topic: topic),
            let (broker, functions) = joined.withLockedValue({ $0 })
        else { return }
        // Devices: through the broker, which asks the router for each subscriber.
        broker.inject(BrokerMessage(topic: topic, payload: ByteBuffer(bytes: payload), qos: .atLeastOnce), from: "cloud")
        for target in table.targets(of: .cloud, topic: topic) {
            switch target {
            case .function: functions.deliver(BrokerMessage(topic: topic, payload: ByteBuffer(bytes: payload)), to: target)
            case .shadow:
                if let (key, operation) = ShadowTopic.request(topic) {
                    shadows.submit(operation, key, payload: payload, origin: .mqtt)
                }
            case .pipeline: routing.offer(BrokerMessage(topic: topic, payload: ByteBuffer(bytes: payload)), to: target)
            case .device, .cloud: break
            }
        }
    }

    fileprivate func connected() {
        sync?.connected()
    }

    // MARK: Status

    var status: AdminStatus.Cloud {
        AdminStatus.Cloud(
            connection: client.status,
            spool: spooler.statistics,
            shadowSync: sync?.statuses ?? [],
            shadowSyncProblem: syncProblem
        )
    }
}

/// The client's callbacks, bound to the link after both exist.
private final class CloudInbox: Sendable {
    private let link = NIOLockedValueBox<CloudLink?>(nil)

    func attach(_ link: CloudLink) { self.link.withLockedValue { $0 = link } }
    func receive(topic: String, payload: [UInt8]) { link.withLockedValue { $0 }?.receive(topic: topic, payload: payload) }
    func connected() { link.withLockedValue { $0 }?.connected() }
}
