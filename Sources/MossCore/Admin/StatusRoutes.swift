import Hummingbird
import MossBroker
import MossShadow

/// `GET /v1/status`: listeners, clients, sessions, retained messages, counters, uptime and version.
struct StatusRoutes: AdminRoutes {
    /// The broker's snapshot; a closure so the routes can be tested without a running broker.
    let statistics: @Sendable () -> BrokerStatistics
    let dataDirectory: String
    let startedAt: ContinuousClock.Instant
    /// The shadow service's counters, when it runs.
    var shadowStatistics: (@Sendable () -> ShadowStatistics)? = nil
    /// What is deployed, when a group is.
    var routingCounters: (@Sendable () -> AdminStatus.RoutingCounters)? = nil
    /// The cloud, when one is configured.
    var cloud: (@Sendable () -> AdminStatus.Cloud)? = nil
    var deployedGroup: (@Sendable () async -> (summary: DeployedGroupSummary, devices: Set<String>)?)? = nil
    var functions: (@Sendable () async -> [AdminStatus.Function])? = nil
    var pipelines: (@Sendable () async -> [PipelineStatus])? = nil

    func register(on v1: RouterGroup<BasicRequestContext>) {
        v1.get("status") { _, _ in
            let group = await deployedGroup?()
            let uptime = ContinuousClock.now - startedAt
            let seconds = Double(uptime.components.seconds) + Double(uptime.components.attoseconds) / 1e18
            var status = AdminStatus(
                version: MossVersion.current,
                uptimeSeconds: seconds,
                dataDirectory: dataDirectory,
                statistics: statistics(),
                shadows: shadowStatistics?(),
                group: group?.summary,
                groupDevices: group?.devices ?? [],
                routing: routingCounters?(),
                cloud: cloud?()
            )
            if group != nil {
                status.functions = await functions?()
                status.pipelines = await pipelines?()
            }
            return try AdminJSON.response(status)
        }
    }
}
