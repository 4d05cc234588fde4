public import NIOCore

/// One MQTT 5.0 property.
public enum MQTTProperty: Sendable, Hashable {
    case payloadFormatIndicator(UInt8)
    case messageExpiryInterval(UInt32)
    case contentType(String)
    case responseTopic(String)
    case correlationData(ByteBuffer)
    case subscriptionIdentifier(UInt32)
    case sessionExpiryInterval(UInt32)
    case assignedClientIdentifier(String)
    case serverKeepAlive(UInt16)
    case authenticationMethod(String)
    case authenticationData(ByteBuffer)
    case requestProblemInformation(UInt8)
    case willDelayInterval(UInt32)
    case requestResponseInformation(UInt8)
    case responseInformation(String)
    case serverReference(String)
    case reasonString(String)
    case receiveMaximum(UInt16)
    case topicAliasMaximum(UInt16)
    case topicAlias(UInt16)
    case maximumQoS(UInt8)
    case retainAvailable(UInt8)
    case userProperty(String, String)
    case maximumPacketSize(UInt32)
    case wildcardSubscriptionAvailable(UInt8)
    case subscriptionIdentifierAvailable(UInt8)
    case sharedSubscriptionAvailable(UInt8)

    /// The property identifier byte on the wire.
    public var identifier: UInt8 {
        switch self {
        case .payloadFormatIndicator: 0x01
        case .messageExpiryInterval: 0x02
        case .contentType: 0x03
        case .responseTopic: 0x08
        case .correlationData: 0x09
        case .subscriptionIdentifier: 0x0B
        case .sessionExpiryInterval: 0x11
        case .assignedClientIdentifier: 0x12
        case .serverKeepAlive: 0x13
        case .authenticationMethod: 0x15
        case .authenticationData: 0x16
        case .requestProblemInformation: 0x17
        case .willDelayInterval: 0x18
        case .requestResponseInformation: 0x19
        case .responseInformation: 0x1A
        case .serverReference: 0x1C
        case .reasonString: 0x1F
        case .receiveMaximum: 0x21
        case .topicAliasMaximum: 0x22
        case .topicAlias: 0x23
        case .maximumQoS: 0x24
        case .retainAvailable: 0x25
        case .userProperty: 0x26
        case .maximumPacketSize: 0x27
        case .wildcardSubscriptionAvailable: 0x28
        case .subscriptionIdentifierAvailable: 0x29
        case .sharedSubscriptionAvailable: 0x2A
        }
    }
}

/// The properties of a 5.0 packet, in wire order. Empty (and allocation-free) for 3.1.1.
public struct MQTTProperties: Sendable, Hashable, ExpressibleByArrayLiteral {
    public var all: [MQTTProperty]

    public init(_ properties: [MQTTProperty] = []) { self.all = properties }
    public init(arrayLiteral elements: MQTTProperty...) { self.all = elements }

    public var isEmpty: Bool { all.isEmpty }

    public mutating func append(_ property: MQTTProperty) { all.append(property) }

    /// Removes every property with the given identifier.
    public mutating func remove(identifier: UInt8) { all.removeAll { $0.identifier == identifier } }

    /// Replaces every property with the given identifier by `property` (or appends it).
    public mutating func set(_ property: MQTTProperty) {
        remove(identifier: property.identifier)
        all.append(property)
    }

    public var payloadFormatIndicator: UInt8? {
        for case .payloadFormatIndicator(let v) in all { return v }
        return nil
    }
    public var messageExpiryInterval: UInt32? {
        for case .messageExpiryInterval(let v) in all { return v }
        return nil
    }
    public var contentType: String? {
        for case .contentType(let v) in all { return v }
        return nil
    }
    public var responseTopic: String? {
        for case .responseTopic(let v) in all { return v }
        return nil
    }
    public var correlationData: ByteBuffer? {
        for case .correlationData(let v) in all { return v }
        return nil
    }
    public var subscriptionIdentifiers: [UInt32] {
        all.compactMap { if case .subscriptionIdentifier(let v) = $0 { v } else { nil } }
    }
    public var sessionExpiryInterval: UInt32? {
        for case .sessionExpiryInterval(let v) in all { return v }
        return nil
    }
    public var assignedClientIdentifier: String? {
        for case .assignedClientIdentifier(let v) in all { return v }
        return nil
    }
    public var serverKeepAlive: UInt16? {
        for case .serverKeepAlive(let v) in all { return v }
        return nil
    }
    public var authenticationMethod: String? {
        for case .authenticationMethod(let v) in all { return v }
        return nil
    }
    public var requestProblemInformation: UInt8? {
        for case .requestProblemInformation(let v) in all { return v }
        return nil
    }
    public var willDelayInterval: UInt32? {
        for case .willDelayInterval(let v) in all { return v }
        return nil
    }
    public var requestResponseInformation: UInt8? {
        for case .requestResponseInformation(let v) in all { return v }
        return nil
    }
    public var reasonString: String? {
        for case .reasonString(let v) in all { return v }
        return nil
    }
    public var receiveMaximum: UInt16? {
        for case .receiveMaximum(let v) in all { return v }
        return nil
    }
    public var topicAliasMaximum: UInt16? {
        for case .topicAliasMaximum(let v) in all { return v }
        return nil
    }
    public var topicAlias: UInt16? {
        for case .topicAlias(let v) in all { return v }
        return nil
    }
    public var maximumQoS: UInt8? {
        for case .maximumQoS(let v) in all { return v }
        return nil
    }
    public var maximumPacketSize: UInt32? {
        for case .maximumPacketSize(let v) in all { return v }
        return nil
    }
    public var userProperties: [(String, String)] {
        all.compactMap { if case .userProperty(let k, let v) = $0 { (k, v) } else { nil } }
    }
}
