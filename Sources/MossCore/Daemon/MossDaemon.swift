import Foundation
public import Logging
import MossBroker
import MossDeploy
import MossAWS
import MossFunctions
public import MossLogging
import MossResources
import MossRouting
import MossShadow
import MossStore
public import ServiceLifecycle
import UnixSignals

/// The composition root: opens the database, builds the broker and the admin API, and runs them in one
/// `ServiceGroup` until SIGINT or SIGTERM asks for a graceful shutdown.
public struct MossDaemon: Sendable {
    public let configuration: CoreConfiguration
    private let logger: Logger
    /// The daemon's log file, opened here in the data directory (the executable's logging writes to it).
    private let systemLog: SystemLog?
    /// Services that use the daemon from outside (`moss demo`'s simulator and view): started last, stopped first.
    private let companions: [ServiceGroupConfiguration.ServiceConfiguration]

    public init(
        configuration: CoreConfiguration,
        logger: Logger,
        systemLog: SystemLog? = nil,
        companions: [ServiceGroupConfiguration.ServiceConfiguration] = []
    ) {
        self.configuration = configuration
        self.logger = logger
        self.systemLog = systemLog
        self.companions = companions
    }

    public func run() async throws {
        try configuration.validate()
        DaemonTimeZone.useUTC()
        let startedAt = ContinuousClock.now
        let dataDirectory = DataDirectory(path: configuration.dataDirectory)
        try dataDirectory.create()
        let lock = try DataDirectoryLock(dataDirectory: dataDirectory)
        defer { withExtendedLifetime(lock) {} }
        // Only once the lock is held: a second daemon refused here must not write to the running one's log.
        try systemLog?.open(path: dataDirectory.systemLog, limitBytes: SystemLogStage.defaultLimitBytes)
        defer { systemLog?.close() }

        let database = try MossDatabase.open(path: dataDirectory.database)
        let tls = try configuration.resolveTLS(in: dataDirectory)

        let shadowPublisher = ShadowBrokerPublisher()
        let shadowLogger = {
            var shadowLogger = logger
            shadowLogger[metadataKey: "component"] = "shadows"
            return shadowLogger
        }()
        let shadows = ShadowService(
            store: ShadowStoreAdapter(database: database),
            limits: ShadowLimits(maximumStateBytes: configuration.shadows.maximumStateBytes),
            rateLimits: ShadowRateLimits(
                perThingPerSecond: configuration.shadows.requestsPerSecondPerThing,
                totalPerSecond: configuration.shadows.requestsPerSecond
            ),
            reportFailure: { key, error in
                shadowLogger.error("Shadow request failed", metadata: ["shadow.key": "\(key)", "error": "\(error)"])
            },
            publisher: { shadowPublisher.publish($0) }
        )

        var routingLogger = logger
        routingLogger[metadataKey: "component"] = "routing"
        let routing = RoutingInterceptor(
            deniedSubscriptionFilters: configuration.mqtt.deniedSubscriptionFilters,
            logger: routingLogger
        )
        var cloudLogger = logger
        cloudLogger[metadataKey: "component"] = "cloud"
        let cloud = try await CloudLink.make(
            configuration: configuration,
            database: database,
            shadows: shadows,
            routing: routing,
            logger: cloudLogger
        )
        cloud?.logStartProblems(cloudLogger)

        var functionsLogger = logger
        functionsLogger[metadataKey: "component"] = "functions"
        let functionHost = FunctionHost(
            limits: FunctionHostLimits(
                maximumConcurrentWorkers: configuration.functions.maxConcurrentLimit,
                maximumQueuedInvocations: configuration.functions.maxWorkItemCount
            ),
            launcher: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0],
            containerDirectory: dataDirectory.containers,
            logger: functionsLogger
        )
        let pythonRuntime = try PythonRuntime.install(into: dataDirectory.pythonRuntime)
        let inference = InferenceService()

        var resourcesLogger = logger
        resourcesLogger[metadataKey: "component"] = "resources"
        let resourceProgress = ResourceProgress()
        let resourceSettings = configuration.resources
        let region = configuration.region
        let resourceHTTP = resourceSettings.trustedCertificates.map { ResourceFetcher.downloadClient(trustingCertificatesIn: $0) }
            ?? ResourceFetcher.downloadClient
        let resourceInstaller = ResourceInstaller(
            root: dataDirectory.path + "/resources",
            fetcher: ResourceFetcher(policy: resourceSettings.policy, progress: resourceProgress, httpClient: resourceHTTP) {
                () throws(ResourceError) -> AWSClient in
                try resourceSettings.awsClient(region: region, httpClient: resourceHTTP)
            },
            limits: resourceSettings.limits,
            logger: resourcesLogger
        )
        let resourceCatalog = ResourceCatalog(installer: resourceInstaller)
        var pipelinesLogger = logger
        pipelinesLogger[metadataKey: "component"] = "pipelines"
        let pipelines = PipelineRunner(shadows: shadows, logger: pipelinesLogger)

        var deploymentLogger = logger
        deploymentLogger[metadataKey: "component"] = "deployment"
        let deployments = DeploymentManager(
            database: database,
            context: GroupContext(region: configuration.region, account: configuration.account),
            stages: [RoutingStage(interceptor: routing), SystemLogStage(log: systemLog)]
                + (cloud.map { [CloudStage(link: $0)] as [any DeploymentStage] } ?? []) + [
                // Before functions: they mount the versions it prepares.
                ResourcesStage(catalog: resourceCatalog, logger: resourcesLogger),
                FunctionsStage(
                    host: functionHost,
                    pythonRuntime: pythonRuntime,
                    pythons: PythonInterpreters(configuration.functions),
                    users: FunctionUserPolicy(configuration.functions),
                    logDirectory: dataDirectory.functionLogs,
                    region: configuration.region,
                    account: configuration.account,
                    resources: resourceCatalog,
                    code: FunctionCodeInstaller(root: dataDirectory.path + "/functions", limits: configuration.resources.limits),
                    inference: inference
                ),
                PipelinesStage(runner: pipelines, resources: resourceCatalog),
                ResourcesCleanupStage(catalog: resourceCatalog),
            ],
            shadows: shadows,
            cloudConfigured: cloud != nil,
            logger: deploymentLogger
        )
        // The deployed group is in effect before the first client connects.
        try await deployments.restore()

        var brokerLogger = logger
        brokerLogger[metadataKey: "component"] = "broker"
        let broker = MQTTBroker(
            configuration: configuration.brokerConfiguration(tls: tls),
            persistence: BrokerStateStore(database: database),
            interceptor: ShadowBrokerInterceptor(next: routing, service: shadows),
            logger: brokerLogger
        )
        shadowPublisher.attach(broker, routing: routing)
        let functionRouting = FunctionRouting(host: functionHost, routing: routing, broker: broker, shadows: shadows)
        routing.handleEndpoints(of: "function") { message, target in functionRouting.deliver(message, to: target) }
        routing.handleEndpoints(of: "pipeline") { message, target in pipelines.deliver(message, to: target) }
        pipelines.attach { source, topic, payload in _ = functionRouting.publish(from: source, topic: topic, payload: payload) }
        cloud?.attach(broker: broker, functions: functionRouting)
        let ipc = IPCServer(
            host: functionHost,
            endpoints: FunctionEndpoints(
                publish: { arn, topic, payload, _ in functionRouting.publish(from: arn, topic: topic, payload: payload) },
                shadow: { subject, payload in await functionRouting.shadow(subject: subject, payload: payload) },
                inference: { caller, service, body, context in
                    await inference.invoke(caller: caller, service: service, body: body, clientContext: context)
                }
            ),
            logger: functionsLogger
        )

        var adminLogger = logger
        adminLogger[metadataKey: "component"] = "admin"
        // Hummingbird logs its own lifecycle at info; the daemon's "ready" line already says it all.
        adminLogger.logLevel = max(logger.logLevel, .notice)
        let adminBound = ReadinessSignal()
        let admin = AdminServer(
            socketPath: dataDirectory.adminSocket,
            routes: [
                StatusRoutes(
                    statistics: { broker.statistics() },
                    dataDirectory: dataDirectory.path,
                    startedAt: startedAt,
                    shadowStatistics: { shadows.statistics },
                    routingCounters: { .init(refused: routing.refusedCount, undeliverable: routing.undeliverableCount) },
                    cloud: cloud.map { link in { @Sendable in link.status } },
                    deployedGroup: {
                        guard let summary = await deployments.summary() else { return nil }
                        return (summary, await deployments.deviceNames())
                    },
                    functions: {
                        let workers = await functionHost.health().workers
                        return Dictionary(grouping: workers, by: \.functionARN).map { arn, workers in
                            AdminStatus.Function(name: FunctionRouting.functionName(of: arn), arn: arn, workers: workers.map(\.state))
                        }.sorted { $0.name < $1.name }
                    },
                    pipelines: { await pipelines.statuses() }
                ),
                ShadowRoutes(service: shadows),
                DeploymentRoutes(manager: deployments),
                LogRoutes(functionLogs: dataDirectory.functionLogs, systemLog: dataDirectory.systemLog),
                ResourceRoutes(installer: resourceInstaller, progress: resourceProgress),
            ],
            bound: adminBound,
            // Clients find the daemon by its socket; it appears once the broker is listening.
            startWhen: { (try? await broker.boundListeners()) != nil },
            logger: adminLogger
        )
        let readiness = ReadinessService(
            broker: broker,
            adminBound: adminBound,
            dataDirectory: dataDirectory,
            logger: logger
        )

        // Dependency order; shutdown runs in reverse: the admin API stops taking requests, the cloud sync and
        // connection stop, the shadow service answers those it queued (through the broker), the broker (which flushes
        // to the database) stops, and the spooler commits the last messages the broker routed to the cloud.
        var groupConfiguration = ServiceGroupConfiguration(
            services: (cloud.map { [$0.spoolerService] } ?? []) + [
                .init(service: broker),
                .init(service: ShadowServiceRunner(service: shadows)),
                // After the shadow service: pipelines stop before it does.
                .init(service: pipelines),
            ] + (cloud?.services ?? []) + [
                .init(service: FunctionsService(server: ipc, host: functionHost, port: configuration.functions.ipcPort, logger: functionsLogger)),
                .init(service: admin),
                .init(service: readiness),
            ] + companions,
            gracefulShutdownSignals: [.sigterm, .sigint],
            cancellationSignals: [.sigquit],
            logger: logger
        )
        // A service stuck in shutdown must not keep the gateway from stopping; it is cancelled after this.
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(30)
        let group = ServiceGroup(configuration: groupConfiguration)
        logger.info(
            "Starting",
            metadata: [
                "moss.version": "\(MossVersion.current)", "moss.data_directory": "\(dataDirectory.path)",
                "mqtt.tls": "\(tls != nil)",
            ]
        )
        try await group.run()
        logger.info("Stopped")
    }
}
