public import NIOCore

/// Where a property set appears, for the 5.0 rules on which properties each packet may carry.
public enum MQTTPropertyContext: Sendable {
    case connect, connack, publish, will, puback, pubrec, pubrel, pubcomp
    case subscribe, suback, unsubscribe, unsuback, disconnect, auth

    var packetType: UInt8 {
        switch self {
        case .connect, .will: 1
        case .connack: 2
        case .publish: 3
        case .puback: 4
        case .pubrec: 5
        case .pubrel: 6
        case .pubcomp: 7
        case .subscribe: 8
        case .suback: 9
        case .unsubscribe: 10
        case .unsuback: 11
        case .disconnect: 14
        case .auth: 15
        }
    }

    func allows(_ id: UInt8) -> Bool {
        switch id {
        case 0x01, 0x02, 0x03, 0x08, 0x09: self == .publish || self == .will
        case 0x0B: self == .publish || self == .subscribe
        case 0x11: self == .connect || self == .connack || self == .disconnect
        case 0x12, 0x13, 0x1A, 0x24, 0x25, 0x28, 0x29, 0x2A: self == .connack
        case 0x15, 0x16: self == .connect || self == .connack || self == .auth
        case 0x17, 0x19: self == .connect
        case 0x18: self == .will
        case 0x1C: self == .connack || self == .disconnect
        case 0x1F:
            switch self {
            case .connack, .puback, .pubrec, .pubrel, .pubcomp, .suback, .unsuback, .disconnect, .auth: true
            default: false
            }
        case 0x21, 0x22, 0x27: self == .connect || self == .connack
        case 0x23: self == .publish
        case 0x26: true
        default: false
        }
    }
}

extension MQTTProperties {
    /// Reads a property length and the properties it covers, checking the 5.0 rules for `context`.
    static func decode(from reader: inout MQTTBodyReader, context: MQTTPropertyContext) throws(MQTTCodecError) -> Self {
        let length = try reader.variableInteger("property length")
        if length == 0 { return MQTTProperties() }
        var body = MQTTBodyReader(buffer: try reader.slice(length: length, "properties"))
        var properties: [MQTTProperty] = []
        var seen: UInt64 = 0
        while !body.isEmpty {
            let id = try body.byte("property identifier")
            guard id < 64 else { throw .unknownProperty(id) }
            let property: MQTTProperty
            switch id {
            case 0x01:
                let v = try body.byte("payload format indicator")
                guard v <= 1 else { throw .protocolViolation("payload format indicator must be 0 or 1") }
                property = .payloadFormatIndicator(v)
            case 0x02: property = .messageExpiryInterval(try body.uint32("message expiry interval"))
            case 0x03: property = .contentType(try body.string("content type"))
            case 0x08:
                let topic = try body.string("response topic")
                do { try MQTTTopic.validateName(topic) } catch { throw .invalidTopic("response topic: \(error)") }
                property = .responseTopic(topic)
            case 0x09: property = .correlationData(try body.binary("correlation data"))
            case 0x0B:
                let v = try body.variableInteger("subscription identifier")
                guard v > 0 else { throw .protocolViolation("subscription identifier must not be 0") }
                property = .subscriptionIdentifier(UInt32(v))
            case 0x11: property = .sessionExpiryInterval(try body.uint32("session expiry interval"))
            case 0x12: property = .assignedClientIdentifier(try body.string("assigned client identifier"))
            case 0x13: property = .serverKeepAlive(try body.uint16("server keep alive"))
            case 0x15: property = .authenticationMethod(try body.string("authentication method"))
            case 0x16: property = .authenticationData(try body.binary("authentication data"))
            case 0x17:
                let v = try body.byte("request problem information")
                guard v <= 1 else { throw .protocolViolation("request problem information must be 0 or 1") }
                property = .requestProblemInformation(v)
            case 0x18: property = .willDelayInterval(try body.uint32("will delay interval"))
            case 0x19:
                let v = try body.byte("request response information")
                guard v <= 1 else { throw .protocolViolation("request response information must be 0 or 1") }
                property = .requestResponseInformation(v)
            case 0x1A: property = .responseInformation(try body.string("response information"))
            case 0x1C: property = .serverReference(try body.string("server reference"))
            case 0x1F: property = .reasonString(try body.string("reason string"))
            case 0x21:
                let v = try body.uint16("receive maximum")
                guard v > 0 else { throw .protocolViolation("receive maximum must not be 0") }
                property = .receiveMaximum(v)
            case 0x22: property = .topicAliasMaximum(try body.uint16("topic alias maximum"))
            case 0x23: property = .topicAlias(try body.uint16("topic alias"))
            case 0x24:
                let v = try body.byte("maximum QoS")
                guard v <= 1 else { throw .protocolViolation("maximum QoS must be 0 or 1") }
                property = .maximumQoS(v)
            case 0x25: property = .retainAvailable(try body.byte("retain available"))
            case 0x26:
                let key = try body.string("user property name")
                property = .userProperty(key, try body.string("user property value"))
            case 0x27:
                let v = try body.uint32("maximum packet size")
                guard v > 0 else { throw .protocolViolation("maximum packet size must not be 0") }
                property = .maximumPacketSize(v)
            case 0x28: property = .wildcardSubscriptionAvailable(try body.byte("wildcard subscription available"))
            case 0x29: property = .subscriptionIdentifierAvailable(try body.byte("subscription identifier available"))
            case 0x2A: property = .sharedSubscriptionAvailable(try body.byte("shared subscription available"))
            default: throw .unknownProperty(id)
            }
            guard context.allows(id) else { throw .propertyNotAllowed(property: id, packetType: context.packetType) }
            let repeatable = id == 0x26 || (id == 0x0B && context == .publish)
            if !repeatable {
                guard seen & (1 << id) == 0 else { throw .duplicateProperty(id) }
                seen |= 1 << id
            }
            properties.append(property)
        }
        return MQTTProperties(properties)
    }

    /// Bytes the properties take on the wire, without the length prefix.
    public var encodedLength: Int {
        var total = 0
        for property in all {
            total += 1
            switch property {
            case .payloadFormatIndicator, .requestProblemInformation, .requestResponseInformation, .maximumQoS,
                .retainAvailable, .wildcardSubscriptionAvailable, .subscriptionIdentifierAvailable,
                .sharedSubscriptionAvailable:
                total += 1
            case .serverKeepAlive, .receiveMaximum, .topicAliasMaximum, .topicAlias:
                total += 2
            case .messageExpiryInterval, .sessionExpiryInterval, .willDelayInterval, .maximumPacketSize:
                total += 4
            case .contentType(let s), .responseTopic(let s), .assignedClientIdentifier(let s),
                .authenticationMethod(let s), .responseInformation(let s), .serverReference(let s),
                .reasonString(let s):
                total += 2 + s.utf8.count
            case .correlationData(let b), .authenticationData(let b):
                total += 2 + b.readableBytes
            case .subscriptionIdentifier(let v):
                total += mqttVariableByteIntegerSize(Int(v))
            case .userProperty(let k, let v):
                total += 4 + k.utf8.count + v.utf8.count
            }
        }
        return total
    }

    /// Writes the length prefix and the properties.
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeMQTTVariableByteInteger(encodedLength)
        for property in all {
            buffer.writeInteger(property.identifier)
            switch property {
            case .payloadFormatIndicator(let v), .requestProblemInformation(let v), .requestResponseInformation(let v),
                .maximumQoS(let v), .retainAvailable(let v), .wildcardSubscriptionAvailable(let v),
                .subscriptionIdentifierAvailable(let v), .sharedSubscriptionAvailable(let v):
                buffer.writeInteger(v)
            case .serverKeepAlive(let v), .receiveMaximum(let v), .topicAliasMaximum(let v), .topicAlias(let v):
                buffer.writeInteger(v)
            case .messageExpiryInterval(let v), .sessionExpiryInterval(let v), .willDelayInterval(let v),
                .maximumPacketSize(let v):
                buffer.writeInteger(v)
            case .contentType(let s), .responseTopic(let s), .assignedClientIdentifier(let s),
                .authenticationMethod(let s), .responseInformation(let s), .serverReference(let s),
                .reasonString(let s):
                buffer.writeMQTTString(s)
            case .correlationData(let b), .authenticationData(let b):
                buffer.writeMQTTBinary(b)
            case .subscriptionIdentifier(let v):
                buffer.writeMQTTVariableByteInteger(Int(v))
            case .userProperty(let k, let v):
                buffer.writeMQTTString(k)
                buffer.writeMQTTString(v)
            }
        }
    }
}

extension MQTTProperties {
    /// Reads a length-prefixed property block as found in a packet of kind `context`.
    public static func decode(from buffer: inout ByteBuffer, context: MQTTPropertyContext) throws(MQTTCodecError) -> Self {
        var reader = MQTTBodyReader(buffer: buffer)
        let properties = try decode(from: &reader, context: context)
        buffer = reader.buffer
        return properties
    }
}
