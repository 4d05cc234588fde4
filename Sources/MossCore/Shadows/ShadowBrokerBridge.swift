import MossBroker
import MossMQTT
import MossRouting
import MossShadow
import NIOConcurrencyHelpers
import NIOCore

/// Joins the shadow service to the broker: client publishes on shadow request topics go to the service, and
/// what the service publishes is injected into the broker as the endpoint `GGShadowService`.
///
/// It wraps the router, which decides everything else: with a group deployed, a device's request reaches the
/// service only through a subscription to `GGShadowService`, and replies reach devices only through subscriptions
/// from it, as in V1.
struct ShadowBrokerInterceptor: BrokerInterceptor {
    let next: RoutingInterceptor
    let service: ShadowService

    func authorizeConnection(_ client: ClientIdentity) -> Bool { next.authorizeConnection(client) }

    func authorizeSubscription(_ filter: String, for client: ClientIdentity) -> Bool {
        next.authorizeSubscription(filter, for: client)
    }

    func authorizePublish(_ topic: String, from client: ClientIdentity) -> Bool {
        next.authorizePublish(topic, from: client)
    }

    func thing(forCertificateFingerprint fingerprint: String) -> String? {
        next.thing(forCertificateFingerprint: fingerprint)
    }

    var filtersDeliveries: Bool { next.filtersDeliveries }

    func mayDeliver(topic: String, from source: MessageSource, to client: ClientIdentity) -> Bool {
        next.mayDeliver(topic: topic, from: source, to: client)
    }

    var observesAcceptedPublishes: Bool { true }

    func publishAccepted(_ message: BrokerMessage, from client: ClientIdentity) {
        publishAccepted(message, from: client) {}
    }

    func publishAccepted(_ message: BrokerMessage, from client: ClientIdentity, acknowledge: @escaping @Sendable () -> Void) {
        if next.observesAcceptedPublishes {
            next.publishAccepted(message, from: client, acknowledge: acknowledge)
        } else {
            acknowledge()
        }
        // Submitted here, on the publisher's event loop, so one client's requests keep their order.
        guard let (key, operation) = ShadowTopic.request(message.topic),
            next.reaches(.shadow, topic: message.topic, from: .device(client.identity))
        else { return }
        service.submit(operation, key, payload: Array(message.payload.readableBytesView), origin: .mqtt)
    }
}

/// Publishes the shadow service's messages through the broker, once the broker exists (the two refer to
/// each other, so the broker is attached after both are built).
final class ShadowBrokerPublisher: Sendable {
    /// The endpoint name replies come from: V1's name for the local shadow service.
    static let endpoint = "GGShadowService"

    private let broker = NIOLockedValueBox<(MQTTBroker, RoutingInterceptor)?>(nil)

    func attach(_ broker: MQTTBroker, routing: RoutingInterceptor) {
        self.broker.withLockedValue { $0 = (broker, routing) }
    }

    /// To devices through the broker, and to the cloud where a route from `GGShadowService` to `cloud` says so.
    func publish(_ publications: [ShadowPublication]) {
        guard let (broker, routing) = broker.withLockedValue({ $0 }) else { return }
        let table = routing.current
        for publication in publications {
            let message = BrokerMessage(topic: publication.topic, payload: ByteBuffer(bytes: publication.payload), qos: .atLeastOnce)
            broker.inject(message, from: Self.endpoint)
            if let table, table.allows(.shadow, topic: publication.topic, to: .cloud) { routing.offer(message, to: .cloud) }
        }
    }
}
