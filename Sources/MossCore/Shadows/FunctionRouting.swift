import Foundation
import MossBroker
import MossFunctions
import MossMQTT
import MossRouting
import MossShadow
import NIOCore

/// Joins functions to the rest of Moss: messages routed to a function become Event invocations; what a function
/// publishes through `GGRouter` enters the router with the function as its source; its shadow calls go straight to
/// the shadow service, as in V1 (no subscription needed).
struct FunctionRouting: Sendable {
    let host: FunctionHost
    let routing: RoutingInterceptor
    let broker: MQTTBroker
    let shadows: ShadowService

    /// A message the router sends to `target` (a function): an Event invocation whose client context carries the topic.
    func deliver(_ message: BrokerMessage, to target: RouteEndpoint) {
        guard case .function(let name) = target else { return }
        let payload = Array(message.payload.readableBytesView)
        let context = Self.clientContext(subject: message.topic)
        Task { await host.invokeEvent(functionNamed: name, payload: payload, clientContext: context) }
    }

    /// A function's publish: delivered to MQTT subscribers the routes allow, to other functions, pipelines, the
    /// cloud, and to the shadow service when a route leads there.
    func publish(from arn: String, topic: String, payload: [UInt8]) -> Bool {
        publish(from: .function(Self.functionName(of: arn)), topic: topic, payload: payload)
    }

    /// A publish by a non-MQTT endpoint (a function or a pipeline), routed as the group's subscriptions say.
    func publish(from source: RouteEndpoint, topic: String, payload: [UInt8]) -> Bool {
        guard (try? MQTTTopic.validateName(topic)) != nil else { return false }
        broker.inject(
            BrokerMessage(topic: topic, payload: ByteBuffer(bytes: payload), qos: .atLeastOnce),
            from: RoutingInterceptor.endpointName(source)
        )
        guard let table = routing.current else { return true }
        for target in table.targets(of: source, topic: topic) {
            switch target {
            case .function:
                deliver(BrokerMessage(topic: topic, payload: ByteBuffer(bytes: payload)), to: target)
            case .shadow:
                if let (key, operation) = ShadowTopic.request(topic) {
                    shadows.submit(operation, key, payload: payload, origin: .mqtt)
                }
            case .cloud, .pipeline:
                routing.offer(BrokerMessage(topic: topic, payload: ByteBuffer(bytes: payload), qos: .atLeastOnce), to: target)
            case .device:
                break  // through the broker above
            }
        }
        return true
    }

    /// A function's get/update/delete_thing_shadow: the reply document, or the error document the SDK raises.
    func shadow(subject: String, payload: [UInt8]) async -> [UInt8] {
        guard let (key, operation) = ShadowTopic.request(subject) else {
            let error = ShadowError(code: 400, message: "Not a shadow request topic: \(subject)")
            return shadows.engine.errorDocument(error, token: nil, now: shadows.now())
        }
        return await shadows.perform(operation, key, payload: payload, origin: .api).reply
    }

    static func clientContext(subject: String) -> String {
        let object: [String: Any] = ["custom": ["subject": subject]]
        let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
        return data.base64EncodedString()
    }

    /// `NAME` of `arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`.
    static func functionName(of arn: String) -> String {
        let parts = arn.split(separator: ":", omittingEmptySubsequences: false)
        return parts.count >= 7 ? String(parts[6]) : arn
    }
}
