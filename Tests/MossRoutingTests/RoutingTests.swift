import Logging
import MossBroker
import MossMQTT
import MossRouting
import NIOCore
import Synchronization
import Testing

@Suite struct RoutingTableTests {
    let table = RoutingTable(
        routes: [
            Route(id: "1", source: .device("sensor"), filter: "bme680/readings", target: .function("repub")),
            Route(id: "2", source: .device("sensor"), filter: "$aws/things/sensor/shadow/update", target: .shadow),
            Route(id: "3", source: .shadow, filter: "$aws/things/sensor/shadow/update/+", target: .device("sensor")),
            Route(id: "4", source: .function("repub"), filter: "alerts/#", target: .device("panel")),
            Route(id: "5", source: .device("panel"), filter: "panel/+/ack", target: .cloud),
            Route(id: "6", source: .cloud, filter: "commands/panel", target: .device("panel")),
        ],
        devices: ["sensor", "panel"]
    )

    @Test func aDevicePublishesOnlyWhereItIsASource() {
        #expect(table.mayPublish(.device("sensor"), topic: "bme680/readings"))
        #expect(table.mayPublish(.device("panel"), topic: "panel/1/ack"))
        #expect(!table.mayPublish(.device("panel"), topic: "panel/1/2/ack"))
        #expect(!table.mayPublish(.device("panel"), topic: "bme680/readings"))
        #expect(!table.mayPublish(.device("stranger"), topic: "bme680/readings"))
    }

    @Test func aDeviceSubscribesOnlyWhereItIsATarget() {
        #expect(table.maySubscribe(.device("sensor"), filter: "$aws/things/sensor/shadow/update/accepted"))
        #expect(table.maySubscribe(.device("sensor"), filter: "$aws/things/sensor/shadow/update/#"))
        #expect(table.maySubscribe(.device("panel"), filter: "alerts/fire"))
        #expect(table.maySubscribe(.device("panel"), filter: "commands/panel"))
        #expect(!table.maySubscribe(.device("panel"), filter: "bme680/readings"))
        #expect(!table.maySubscribe(.device("sensor"), filter: "alerts/#"))
    }

    @Test func deliveriesNeedARouteFromTheirSource() {
        #expect(table.allows(.function("repub"), topic: "alerts/fire", to: .device("panel")))
        #expect(!table.allows(.device("sensor"), topic: "alerts/fire", to: .device("panel")))
        #expect(table.allows(.shadow, topic: "$aws/things/sensor/shadow/update/accepted", to: .device("sensor")))
        #expect(!table.allows(.shadow, topic: "$aws/things/other/shadow/update/accepted", to: .device("sensor")))
        #expect(table.allows(.cloud, topic: "commands/panel", to: .device("panel")))
        #expect(table.targets(of: .device("sensor"), topic: "bme680/readings") == [.function("repub")])
        #expect(table.targets(of: .device("panel"), topic: "panel/x/ack") == [.cloud])
    }
}

@Suite struct RoutingInterceptorTests {
    private func client(_ identity: String) -> ClientIdentity {
        ClientIdentity(clientID: identity, identity: identity, listener: "mqtt", protocolVersion: .v5)
    }

    @Test func withNoGroupItIsAnOrdinaryBrokerMinusDeniedFilters() {
        let interceptor = RoutingInterceptor(deniedSubscriptionFilters: ["secret/#"], logger: Logger(label: "test"))
        #expect(interceptor.authorizeConnection(client("anyone")))
        #expect(interceptor.authorizePublish("any/topic", from: client("anyone")))
        #expect(interceptor.authorizeSubscription("any/#", for: client("anyone")))
        #expect(!interceptor.authorizeSubscription("secret/x", for: client("anyone")))
        #expect(!interceptor.filtersDeliveries)
        #expect(interceptor.reaches(.shadow, topic: "$aws/things/x/shadow/get", from: .device("anyone")))
    }

    @Test func aDeployedGroupDeniesByDefaultAndResetLiftsIt() {
        let interceptor = RoutingInterceptor(logger: Logger(label: "test"))
        interceptor.install(
            RoutingTable(
                routes: [
                    Route(id: "a", source: .device("sensor"), filter: "$aws/things/sensor/shadow/get", target: .shadow),
                    Route(id: "b", source: .shadow, filter: "$aws/things/sensor/shadow/get/accepted", target: .device("sensor")),
                ],
                devices: ["sensor"]
            )
        )
        #expect(!interceptor.authorizeConnection(client("stranger")))
        #expect(interceptor.authorizeConnection(client("sensor")))
        #expect(interceptor.authorizePublish("$aws/things/sensor/shadow/get", from: client("sensor")))
        #expect(!interceptor.authorizePublish("$aws/things/sensor/shadow/update", from: client("sensor")))
        #expect(interceptor.authorizeSubscription("$aws/things/sensor/shadow/get/accepted", for: client("sensor")))
        #expect(!interceptor.authorizeSubscription("$aws/things/sensor/shadow/get/rejected", for: client("sensor")))
        #expect(interceptor.filtersDeliveries)
        #expect(
            interceptor.mayDeliver(
                topic: "$aws/things/sensor/shadow/get/accepted",
                from: .endpoint("GGShadowService"),
                to: client("sensor")
            )
        )
        #expect(!interceptor.mayDeliver(topic: "$aws/things/sensor/shadow/get/accepted", from: .client(client("sensor")), to: client("sensor")))
        #expect(interceptor.reaches(.shadow, topic: "$aws/things/sensor/shadow/get", from: .device("sensor")))
        #expect(!interceptor.reaches(.shadow, topic: "$aws/things/sensor/shadow/delete", from: .device("sensor")))
        #expect(interceptor.refusedCount == 3)

        interceptor.install(nil)
        #expect(interceptor.authorizeConnection(client("stranger")))
        #expect(!interceptor.filtersDeliveries)
    }

    @Test func messagesForFunctionsAndTheCloudGoToTheirHandlerOrAreCounted() {
        let interceptor = RoutingInterceptor(logger: Logger(label: "test"))
        interceptor.install(
            RoutingTable(
                routes: [
                    Route(id: "f", source: .device("sensor"), filter: "readings", target: .function("repub")),
                    Route(id: "c", source: .device("sensor"), filter: "readings", target: .cloud),
                ],
                devices: ["sensor"]
            )
        )
        #expect(interceptor.observesAcceptedPublishes)
        let received = Mutex<[RouteEndpoint]>([])
        interceptor.handleEndpoints(of: "function") { _, target in received.withLock { $0.append(target) } }
        interceptor.publishAccepted(BrokerMessage(topic: "readings", payload: .init()), from: client("sensor"))
        interceptor.publishAccepted(BrokerMessage(topic: "other", payload: .init()), from: client("sensor"))
        #expect(received.withLock { $0 } == [.function("repub")])
        #expect(interceptor.undeliverableCount == 1)
    }
}
