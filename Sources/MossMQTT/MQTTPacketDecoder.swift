public import NIOCore

/// Turns bytes into ``MQTTPacket``s, incrementally and with bounded buffering.
///
/// Until a CONNECT has been decoded (`protocolVersion == nil`) only CONNECT is accepted, so a peer
/// cannot make the server buffer anything but a bounded CONNECT. A client sets `protocolVersion` up front.
public struct MQTTPacketDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = MQTTPacket

    /// Largest whole packet (fixed header included) accepted; larger is an error before any body is buffered.
    public var maximumPacketSize: Int
    /// The version packets are parsed with; set by decoding a CONNECT.
    public var protocolVersion: MQTTProtocolVersion?

    public init(maximumPacketSize: Int = 268_435_460, protocolVersion: MQTTProtocolVersion? = nil) {
        self.maximumPacketSize = maximumPacketSize
        self.protocolVersion = protocolVersion
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> MQTTPacket? {
        var peek = buffer
        guard let first: UInt8 = peek.readInteger() else { return nil }
        let type = first >> 4
        if protocolVersion == nil && type != 1 { throw MQTTCodecError.firstPacketNotConnect(type: type) }
        guard let length = try peek.readMQTTVariableByteInteger() else { return nil }
        let total = 1 + mqttVariableByteIntegerSize(length) + length
        guard total <= maximumPacketSize else {
            throw MQTTCodecError.packetTooLarge(size: total, limit: maximumPacketSize)
        }
        guard let body = peek.readSlice(length: length) else { return nil }
        buffer = peek
        let packet = try Self.parse(first: first, body: body, version: protocolVersion)
        if case .connect(let connect) = packet { protocolVersion = connect.protocolVersion }
        return packet
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> MQTTPacket? {
        try decode(buffer: &buffer)
    }

    /// Parses one packet body. `version` is nil only for a CONNECT, which carries its own.
    public static func parse(
        first: UInt8,
        body: ByteBuffer,
        version: MQTTProtocolVersion?
    ) throws(MQTTCodecError) -> MQTTPacket {
        let type = first >> 4
        let flags = first & 0x0F
        var reader = MQTTBodyReader(buffer: body)
        let isV5 = version == .v5

        func requireFlags(_ expected: UInt8) throws(MQTTCodecError) {
            guard flags == expected else { throw .invalidFixedHeaderFlags(type: type, flags: flags) }
        }
        func requireEnd(_ reader: MQTTBodyReader) throws(MQTTCodecError) {
            guard reader.isEmpty else { throw .malformed("\(reader.remaining) unexpected bytes at the end of packet type \(type)") }
        }

        switch type {
        case 1:
            try requireFlags(0)
            if version != nil { throw .protocolViolation("a second CONNECT on the same connection") }
            return .connect(try parseConnect(&reader))
        case 2:
            try requireFlags(0)
            let ackFlags = try reader.byte("connect acknowledge flags")
            guard ackFlags & 0xFE == 0 else { throw .malformed("reserved connect acknowledge flags set") }
            let code = MQTTReasonCode(try reader.byte("connect reason code"))
            let properties = isV5 && !reader.isEmpty ? try MQTTProperties.decode(from: &reader, context: .connack) : .init()
            try requireEnd(reader)
            return .connack(.init(sessionPresent: ackFlags & 1 == 1, reasonCode: code, properties: properties))
        case 3:
            return .publish(try parsePublish(flags: flags, reader: &reader, isV5: isV5))
        case 4, 5, 6, 7:
            try requireFlags(type == 6 ? 0x2 : 0)
            let packetID = try reader.uint16("packet identifier")
            guard packetID != 0 else { throw .protocolViolation("packet identifier 0") }
            var code = MQTTReasonCode.success
            var properties = MQTTProperties()
            if isV5 {
                if !reader.isEmpty { code = MQTTReasonCode(try reader.byte("reason code")) }
                if !reader.isEmpty {
                    let context: MQTTPropertyContext = [.puback, .pubrec, .pubrel, .pubcomp][Int(type) - 4]
                    properties = try MQTTProperties.decode(from: &reader, context: context)
                }
            }
            guard reader.isEmpty else { throw .unexpectedLength(type: type, length: body.readableBytes) }
            let ack = MQTTPacket.Ack(packetID: packetID, reasonCode: code, properties: properties)
            switch type {
            case 4: return .puback(ack)
            case 5: return .pubrec(ack)
            case 6: return .pubrel(ack)
            default: return .pubcomp(ack)
            }
        case 8:
            try requireFlags(0x2)
            return .subscribe(try parseSubscribe(&reader, isV5: isV5))
        case 9:
            try requireFlags(0)
            let packetID = try reader.uint16("packet identifier")
            let properties = isV5 ? try MQTTProperties.decode(from: &reader, context: .suback) : .init()
            var codes: [MQTTReasonCode] = []
            while !reader.isEmpty { codes.append(MQTTReasonCode(try reader.byte("reason code"))) }
            return .suback(.init(packetID: packetID, reasonCodes: codes, properties: properties))
        case 10:
            try requireFlags(0x2)
            let packetID = try reader.uint16("packet identifier")
            guard packetID != 0 else { throw .protocolViolation("packet identifier 0") }
            let properties = isV5 ? try MQTTProperties.decode(from: &reader, context: .unsubscribe) : .init()
            var filters: [String] = []
            while !reader.isEmpty {
                let filter = try reader.string("topic filter")
                filters.append(filter)
            }
            guard !filters.isEmpty else { throw .protocolViolation("UNSUBSCRIBE without a topic filter") }
            return .unsubscribe(.init(packetID: packetID, filters: filters, properties: properties))
        case 11:
            try requireFlags(0)
            let packetID = try reader.uint16("packet identifier")
            var codes: [MQTTReasonCode] = []
            var properties = MQTTProperties()
            if isV5 {
                properties = try MQTTProperties.decode(from: &reader, context: .unsuback)
                while !reader.isEmpty { codes.append(MQTTReasonCode(try reader.byte("reason code"))) }
            }
            try requireEnd(reader)
            return .unsuback(.init(packetID: packetID, reasonCodes: codes, properties: properties))
        case 12, 13:
            try requireFlags(0)
            guard reader.isEmpty else { throw .unexpectedLength(type: type, length: body.readableBytes) }
            return type == 12 ? .pingreq : .pingresp
        case 14:
            try requireFlags(0)
            guard isV5 || reader.isEmpty else { throw .unexpectedLength(type: type, length: body.readableBytes) }
            var code = MQTTReasonCode.success
            var properties = MQTTProperties()
            if !reader.isEmpty { code = MQTTReasonCode(try reader.byte("reason code")) }
            if !reader.isEmpty { properties = try MQTTProperties.decode(from: &reader, context: .disconnect) }
            try requireEnd(reader)
            return .disconnect(.init(reasonCode: code, properties: properties))
        case 15:
            try requireFlags(0)
            guard isV5 else { throw .protocolViolation("AUTH exists only in MQTT 5.0") }
            var code = MQTTReasonCode.success
            var properties = MQTTProperties()
            if !reader.isEmpty { code = MQTTReasonCode(try reader.byte("reason code")) }
            if !reader.isEmpty { properties = try MQTTProperties.decode(from: &reader, context: .auth) }
            try requireEnd(reader)
            return .auth(.init(reasonCode: code, properties: properties))
        default:
            throw .reservedPacketType
        }
    }

    private static func parseConnect(_ reader: inout MQTTBodyReader) throws(MQTTCodecError) -> MQTTPacket.Connect {
        let name = try reader.string("protocol name")
        let level = try reader.byte("protocol level")
        let version: MQTTProtocolVersion
        switch (name, level) {
        case ("MQTT", 4): version = .v3_1_1
        case ("MQTT", 5): version = .v5
        case ("MQIsdp", 3): version = .v3_1
        case ("MQTT", _), ("MQIsdp", _): throw .unsupportedProtocolVersion(level)
        default: throw .unknownProtocolName(name)
        }
        let isV5 = version == .v5
        let flags = try reader.byte("connect flags")
        guard flags & 0x01 == 0 else { throw .malformed("reserved connect flag is set") }
        let hasWill = flags & 0x04 != 0
        let willQoSBits = (flags >> 3) & 0x03
        let willRetain = flags & 0x20 != 0
        let hasPassword = flags & 0x40 != 0
        let hasUsername = flags & 0x80 != 0
        guard let willQoS = MQTTQoS(rawValue: willQoSBits) else { throw .malformed("will QoS 3") }
        if !hasWill && (willQoSBits != 0 || willRetain) {
            throw .malformed("will QoS or will retain set without a will")
        }
        if !isV5 && hasPassword && !hasUsername {
            throw .malformed("password flag set without user name flag")
        }
        let keepAlive = try reader.uint16("keep alive")
        let properties = isV5 ? try MQTTProperties.decode(from: &reader, context: .connect) : .init()
        let clientID = try reader.string("client identifier")
        var will: MQTTPacket.Will?
        if hasWill {
            let willProperties = isV5 ? try MQTTProperties.decode(from: &reader, context: .will) : .init()
            let topic = try reader.string("will topic")
            do { try MQTTTopic.validateName(topic) } catch { throw .invalidTopic("will topic: \(error)") }
            let payload = try reader.binary("will payload")
            will = .init(topic: topic, payload: payload, qos: willQoS, retain: willRetain, properties: willProperties)
        }
        let username = hasUsername ? try reader.string("user name") : nil
        let password = hasPassword ? try reader.binary("password") : nil
        guard reader.isEmpty else { throw .malformed("\(reader.remaining) unexpected bytes after CONNECT payload") }
        return .init(
            protocolVersion: version,
            clientID: clientID,
            cleanStart: flags & 0x02 != 0,
            keepAlive: keepAlive,
            will: will,
            username: username,
            password: password,
            properties: properties
        )
    }

    private static func parsePublish(
        flags: UInt8,
        reader: inout MQTTBodyReader,
        isV5: Bool
    ) throws(MQTTCodecError) -> MQTTPacket.Publish {
        guard let qos = MQTTQoS(rawValue: (flags >> 1) & 0x03) else { throw .malformed("PUBLISH with QoS 3") }
        let dup = flags & 0x08 != 0
        if qos == .atMostOnce && dup { throw .malformed("DUP set on a QoS 0 PUBLISH") }
        let topic = try reader.string("topic name")
        var packetID: UInt16 = 0
        if qos != .atMostOnce {
            packetID = try reader.uint16("packet identifier")
            guard packetID != 0 else { throw .protocolViolation("packet identifier 0") }
        }
        let properties = isV5 ? try MQTTProperties.decode(from: &reader, context: .publish) : .init()
        // An empty topic is allowed only with a topic alias (5.0); the broker resolves aliases.
        if topic.isEmpty {
            guard isV5 && properties.topicAlias != nil else { throw .invalidTopic("topic name is empty") }
        } else {
            do { try MQTTTopic.validateName(topic) } catch { throw .invalidTopic(error.description) }
        }
        return .init(
            topic: topic,
            payload: reader.rest(),
            qos: qos,
            retain: flags & 0x01 != 0,
            dup: dup,
            packetID: packetID,
            properties: properties
        )
    }

    private static func parseSubscribe(
        _ reader: inout MQTTBodyReader,
        isV5: Bool
    ) throws(MQTTCodecError) -> MQTTPacket.Subscribe {
        let packetID = try reader.uint16("packet identifier")
        guard packetID != 0 else { throw .protocolViolation("packet identifier 0") }
        let properties = isV5 ? try MQTTProperties.decode(from: &reader, context: .subscribe) : .init()
        var subscriptions: [MQTTPacket.Subscription] = []
        while !reader.isEmpty {
            let filter = try reader.string("topic filter")
            let options = try reader.byte("subscription options")
            guard let qos = MQTTQoS(rawValue: options & 0x03) else { throw .malformed("subscription QoS 3") }
            if isV5 {
                guard options & 0xC0 == 0 else { throw .malformed("reserved subscription option bits set") }
                guard let handling = MQTTPacket.RetainHandling(rawValue: (options >> 4) & 0x03) else {
                    throw .protocolViolation("retain handling 3")
                }
                subscriptions.append(
                    .init(
                        filter: filter,
                        qos: qos,
                        noLocal: options & 0x04 != 0,
                        retainAsPublished: options & 0x08 != 0,
                        retainHandling: handling
                    )
                )
            } else {
                guard options & 0xFC == 0 else { throw .malformed("reserved subscription option bits set") }
                subscriptions.append(.init(filter: filter, qos: qos))
            }
        }
        guard !subscriptions.isEmpty else { throw .protocolViolation("SUBSCRIBE without a topic filter") }
        return .init(packetID: packetID, subscriptions: subscriptions, properties: properties)
    }
}
