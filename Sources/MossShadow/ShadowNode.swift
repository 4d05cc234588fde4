/// A stored value of a shadow section with the time each leaf was last written: the state and its
/// `metadata` mirror in one tree, so they can never disagree in shape.
public indirect enum ShadowNode: Sendable, Equatable {
    /// A string, number or boolean, and the epoch second it was written.
    case leaf(JSONValue, timestamp: Int64)
    case object(NodeObject)
    /// Arrays are values (replaced whole) but keep metadata per element.
    case array([ShadowNode])

    /// A value written whole at `timestamp`, inside an array: kept exactly as sent (arrays are values).
    init(arrayElement value: JSONValue, timestamp: Int64) {
        switch value {
        case .object(let object):
            var members = NodeObject()
            for (key, member) in object {
                members[key] = ShadowNode(arrayElement: member, timestamp: timestamp)
            }
            self = .object(members)
        case .array(let elements):
            self = .array(elements.map { ShadowNode(arrayElement: $0, timestamp: timestamp) })
        default:
            self = .leaf(value, timestamp: timestamp)
        }
    }

    /// A patch value stored where no object was: nulls are dropped, and so is an object left empty by them
    /// (spec §3.3); nil when nothing remains.
    static func fromPatch(_ value: JSONValue, timestamp: Int64) -> ShadowNode? {
        switch value {
        case .null:
            return nil
        case .object(let object):
            var members = NodeObject()
            for (key, member) in object {
                if let node = fromPatch(member, timestamp: timestamp) { members[key] = node }
            }
            return members.isEmpty ? nil : .object(members)
        case .array(let elements):
            return .array(elements.map { ShadowNode(arrayElement: $0, timestamp: timestamp) })
        default:
            return .leaf(value, timestamp: timestamp)
        }
    }

    /// The value without metadata.
    public var value: JSONValue {
        switch self {
        case .leaf(let value, _): value
        case .object(let members): .object(members.value)
        case .array(let elements): .array(elements.map(\.value))
        }
    }

    /// Value equality (timestamps ignored), as the delta compares.
    func sameValue(as other: ShadowNode) -> Bool {
        switch (self, other) {
        case (.leaf(let a, _), .leaf(let b, _)): a == b
        case (.object(let a), .object(let b)): a.sameValue(as: b)
        case (.array(let a), .array(let b)): a.count == b.count && Swift.zip(a, b).allSatisfy { $0.sameValue(as: $1) }
        default: false
        }
    }

    func writeState(into writer: inout JSONWriter) {
        switch self {
        case .leaf(let value, _): writer.write(value)
        case .object(let members): members.writeState(into: &writer)
        case .array(let elements):
            writer.raw("[")
            for (position, element) in elements.enumerated() {
                if position > 0 { writer.raw(",") }
                element.writeState(into: &writer)
            }
            writer.raw("]")
        }
    }

    func writeMetadata(into writer: inout JSONWriter) {
        switch self {
        case .leaf(_, let timestamp): ShadowNode.writeTimestamp(timestamp, into: &writer)
        case .object(let members): members.writeMetadata(into: &writer)
        case .array(let elements):
            writer.raw("[")
            for (position, element) in elements.enumerated() {
                if position > 0 { writer.raw(",") }
                element.writeMetadata(into: &writer)
            }
            writer.raw("]")
        }
    }

    static func writeTimestamp(_ timestamp: Int64, into writer: inout JSONWriter) {
        writer.raw("{\"timestamp\":")
        writer.write(integer: timestamp)
        writer.raw("}")
    }

    /// Rebuilds a node from its stored state and metadata; nil when they do not mirror each other.
    static func zip(state: JSONValue, metadata: JSONValue) -> ShadowNode? {
        switch state {
        case .null:
            return nil
        case .object(let object):
            guard case .object(let mirror) = metadata else { return nil }
            var members = NodeObject()
            for (key, member) in object {
                guard let memberMetadata = mirror[key], let node = zip(state: member, metadata: memberMetadata) else {
                    return nil
                }
                members[key] = node
            }
            return .object(members)
        case .array(let elements):
            guard case .array(let mirror) = metadata, mirror.count == elements.count else { return nil }
            var nodes: [ShadowNode] = []
            nodes.reserveCapacity(elements.count)
            for (element, elementMetadata) in Swift.zip(elements, mirror) {
                guard let node = zip(state: element, metadata: elementMetadata) else { return nil }
                nodes.append(node)
            }
            return .array(nodes)
        default:
            guard case .object(let mirror) = metadata, case .number(let number)? = mirror["timestamp"],
                let timestamp = number.int64Value
            else { return nil }
            return .leaf(state, timestamp: timestamp)
        }
    }
}

/// The members of a stored object, in the order they were first written.
public struct NodeObject: Sendable, Equatable {
    public private(set) var keys: [String] = []
    private var nodes: [String: ShadowNode] = [:]

    public init() {}

    public var isEmpty: Bool { keys.isEmpty }

    public subscript(key: String) -> ShadowNode? {
        get { nodes[key] }
        set {
            if let newValue {
                if nodes.updateValue(newValue, forKey: key) == nil { keys.append(key) }
            } else if nodes.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    public var value: JSONObject {
        var object = JSONObject()
        for key in keys { object[key] = nodes[key]!.value }
        return object
    }

    func sameValue(as other: NodeObject) -> Bool {
        guard keys.count == other.keys.count else { return false }
        for (key, node) in nodes {
            guard let counterpart = other.nodes[key], node.sameValue(as: counterpart) else { return false }
        }
        return true
    }

    func forEach(_ body: (String, ShadowNode) -> Void) {
        for key in keys { body(key, nodes[key]!) }
    }

    func writeState(into writer: inout JSONWriter) {
        writer.raw("{")
        var first = true
        for key in keys {
            if !first { writer.raw(",") }
            first = false
            writer.write(string: key)
            writer.raw(":")
            nodes[key]!.writeState(into: &writer)
        }
        writer.raw("}")
    }

    func writeMetadata(into writer: inout JSONWriter) {
        writer.raw("{")
        var first = true
        for key in keys {
            if !first { writer.raw(",") }
            first = false
            writer.write(string: key)
            writer.raw(":")
            nodes[key]!.writeMetadata(into: &writer)
        }
        writer.raw("}")
    }
}
