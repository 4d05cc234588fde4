import MossMQTT

/// An endpoint of the routing table (ARCHITECTURE.md): a device (its thing name), a function (its name),
/// the cloud, the local shadow service, or a declarative pipeline (its id).
public enum RouteEndpoint: Sendable, Hashable, CustomStringConvertible {
    case device(String)
    case function(String)
    case cloud
    case shadow
    case pipeline(String)

    public var description: String {
        switch self {
        case .device(let thing): "device:\(thing)"
        case .function(let name): "function:\(name)"
        case .cloud: "cloud"
        case .shadow: "GGShadowService"
        case .pipeline(let id): "pipeline:\(id)"
        }
    }
}

/// One subscription of the group: messages from `source` on topics matching `filter` may reach `target`.
public struct Route: Sendable, Hashable {
    public var id: String
    public var source: RouteEndpoint
    public var filter: String
    public var target: RouteEndpoint

    public init(id: String, source: RouteEndpoint, filter: String, target: RouteEndpoint) {
        self.id = id
        self.source = source
        self.filter = filter
        self.target = target
    }
}

/// The group's subscription table, indexed for the broker's questions. Deny by default: what no route allows is
/// not delivered, exactly as in Greengrass V1.
public struct RoutingTable: Sendable, Hashable {
    public let routes: [Route]
    /// The group's devices (thing names); only they may connect once a group is deployed.
    public let devices: Set<String>
    /// Device certificates the group names (SHA-256, lowercase hex) and their things.
    public let thingsByFingerprint: [String: String]
    /// Whether some route leads to a function or the cloud (so accepted publishes must be offered to them).
    public let hasEndpointTargets: Bool
    private let bySource: [RouteEndpoint: [Route]]
    private let byTarget: [RouteEndpoint: [Route]]

    public init(routes: [Route], devices: Set<String>, thingsByFingerprint: [String: String] = [:]) {
        self.routes = routes
        self.devices = devices
        self.thingsByFingerprint = thingsByFingerprint
        self.bySource = Dictionary(grouping: routes, by: \.source)
        self.byTarget = Dictionary(grouping: routes, by: \.target)
        self.hasEndpointTargets = routes.contains { route in
            switch route.target {
            case .function, .cloud, .pipeline: true
            case .device, .shadow: false
            }
        }
    }

    /// Whether `source` may publish on `topic` at all: some route from it matches.
    public func mayPublish(_ source: RouteEndpoint, topic: String) -> Bool {
        bySource[source]?.contains { MQTTTopic.matches(filter: $0.filter, topic: topic) } ?? false
    }

    /// Whether `target` may subscribe to `filter`: some route towards it could deliver a message matching it.
    public func maySubscribe(_ target: RouteEndpoint, filter: String) -> Bool {
        byTarget[target]?.contains { MQTTTopic.filtersOverlap($0.filter, filter) } ?? false
    }

    /// Whether a message from `source` on `topic` may reach `target`.
    public func allows(_ source: RouteEndpoint, topic: String, to target: RouteEndpoint) -> Bool {
        bySource[source]?.contains { $0.target == target && MQTTTopic.matches(filter: $0.filter, topic: topic) } ?? false
    }

    /// Every endpoint a message from `source` on `topic` may reach (each once, in the table's order).
    public func targets(of source: RouteEndpoint, topic: String) -> [RouteEndpoint] {
        var seen: Set<RouteEndpoint> = []
        var result: [RouteEndpoint] = []
        for route in bySource[source] ?? [] where MQTTTopic.matches(filter: route.filter, topic: topic) {
            if seen.insert(route.target).inserted { result.append(route.target) }
        }
        return result
    }
}
