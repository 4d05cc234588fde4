import MossDeploy
import MossRouting

/// Puts the group's subscription table into the broker's interceptor (ARCHITECTURE.md, "Broker and router").
struct RoutingStage: DeploymentStage {
    let interceptor: RoutingInterceptor

    func prepare(_ group: GroupDefinition?) async throws -> any PreparedStage {
        Prepared(interceptor: interceptor, table: group.map(Self.table))
    }

    static func table(of group: GroupDefinition) -> RoutingTable {
        RoutingTable(
            routes: group.subscriptions.map { subscription in
                Route(
                    id: subscription.id,
                    source: endpoint(subscription.source),
                    filter: subscription.subject,
                    target: endpoint(subscription.target)
                )
            },
            devices: Set(group.devices.map(\.thingName))
        )
    }

    static func endpoint(_ endpoint: Endpoint) -> RouteEndpoint {
        switch endpoint {
        case .device(let thing): .device(thing)
        case .function(let name): .function(name)
        case .cloud: .cloud
        case .shadow: .shadow
        }
    }

    private struct Prepared: PreparedStage {
        let interceptor: RoutingInterceptor
        let table: RoutingTable?

        func activate() { interceptor.install(table) }
        func discard() async {}
    }
}
