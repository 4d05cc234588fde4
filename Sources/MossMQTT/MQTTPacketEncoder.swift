public import NIOCore

/// Writes ``MQTTPacket``s for one protocol version.
public struct MQTTPacketEncoder: MessageToByteEncoder, Sendable {
    public typealias OutboundIn = MQTTPacket

    public var protocolVersion: MQTTProtocolVersion

    public init(protocolVersion: MQTTProtocolVersion) {
        self.protocolVersion = protocolVersion
    }

    public func encode(data: MQTTPacket, out: inout ByteBuffer) {
        data.encode(into: &out, version: protocolVersion)
    }
}

extension MQTTPacket {
    /// Writes the packet. CONNECT carries its own version; every other packet uses `version`.
    public func encode(into buffer: inout ByteBuffer, version: MQTTProtocolVersion) {
        let isV5 = version == .v5
        switch self {
        case .connect(let c):
            c.encode(into: &buffer)
        case .connack(let c):
            let props = isV5 ? c.properties.encodedLength : -1
            Self.writeHeader(0x20, bodyLength: 2 + Self.propertiesSize(props), into: &buffer)
            buffer.writeInteger(UInt8(c.sessionPresent ? 1 : 0))
            buffer.writeInteger(c.reasonCode.rawValue)
            if isV5 { c.properties.encode(into: &buffer) }
        case .publish(let p):
            p.encode(into: &buffer, version: version)
        case .puback(let a): Self.encodeAck(0x40, a, isV5: isV5, into: &buffer)
        case .pubrec(let a): Self.encodeAck(0x50, a, isV5: isV5, into: &buffer)
        case .pubrel(let a): Self.encodeAck(0x62, a, isV5: isV5, into: &buffer)
        case .pubcomp(let a): Self.encodeAck(0x70, a, isV5: isV5, into: &buffer)
        case .subscribe(let s):
            var length = 2 + (isV5 ? Self.propertiesSize(s.properties.encodedLength) : 0)
            for sub in s.subscriptions { length += 3 + sub.filter.utf8.count }
            Self.writeHeader(0x82, bodyLength: length, into: &buffer)
            buffer.writeInteger(s.packetID)
            if isV5 { s.properties.encode(into: &buffer) }
            for sub in s.subscriptions {
                buffer.writeMQTTString(sub.filter)
                var options = sub.qos.rawValue
                if isV5 {
                    if sub.noLocal { options |= 0x04 }
                    if sub.retainAsPublished { options |= 0x08 }
                    options |= sub.retainHandling.rawValue << 4
                }
                buffer.writeInteger(options)
            }
        case .suback(let s):
            let length = 2 + (isV5 ? Self.propertiesSize(s.properties.encodedLength) : 0) + s.reasonCodes.count
            Self.writeHeader(0x90, bodyLength: length, into: &buffer)
            buffer.writeInteger(s.packetID)
            if isV5 { s.properties.encode(into: &buffer) }
            for code in s.reasonCodes { buffer.writeInteger(code.rawValue) }
        case .unsubscribe(let u):
            var length = 2 + (isV5 ? Self.propertiesSize(u.properties.encodedLength) : 0)
            for filter in u.filters { length += 2 + filter.utf8.count }
            Self.writeHeader(0xA2, bodyLength: length, into: &buffer)
            buffer.writeInteger(u.packetID)
            if isV5 { u.properties.encode(into: &buffer) }
            for filter in u.filters { buffer.writeMQTTString(filter) }
        case .unsuback(let u):
            let length = 2 + (isV5 ? Self.propertiesSize(u.properties.encodedLength) + u.reasonCodes.count : 0)
            Self.writeHeader(0xB0, bodyLength: length, into: &buffer)
            buffer.writeInteger(u.packetID)
            if isV5 {
                u.properties.encode(into: &buffer)
                for code in u.reasonCodes { buffer.writeInteger(code.rawValue) }
            }
        case .pingreq:
            buffer.writeInteger(UInt16(0xC000))
        case .pingresp:
            buffer.writeInteger(UInt16(0xD000))
        case .disconnect(let d):
            Self.encodeReasonAndProperties(0xE0, d.reasonCode, d.properties, isV5: isV5, into: &buffer)
        case .auth(let a):
            Self.encodeReasonAndProperties(0xF0, a.reasonCode, a.properties, isV5: true, into: &buffer)
        }
    }

    /// Bytes a property block takes including its length prefix; `-1` means "no block" (3.1.1).
    @usableFromInline
    static func propertiesSize(_ encodedLength: Int) -> Int {
        encodedLength < 0 ? 0 : mqttVariableByteIntegerSize(encodedLength) + encodedLength
    }

    @usableFromInline
    static func writeHeader(_ first: UInt8, bodyLength: Int, into buffer: inout ByteBuffer) {
        buffer.writeInteger(first)
        buffer.writeMQTTVariableByteInteger(bodyLength)
    }

    private static func encodeAck(_ first: UInt8, _ ack: Ack, isV5: Bool, into buffer: inout ByteBuffer) {
        // 5.0 lets a success without properties drop the reason code (MQTT-3.4.2.1).
        guard isV5, ack.reasonCode != .success || !ack.properties.isEmpty else {
            writeHeader(first, bodyLength: 2, into: &buffer)
            buffer.writeInteger(ack.packetID)
            return
        }
        let props = ack.properties.isEmpty ? 0 : propertiesSize(ack.properties.encodedLength)
        writeHeader(first, bodyLength: 3 + props, into: &buffer)
        buffer.writeInteger(ack.packetID)
        buffer.writeInteger(ack.reasonCode.rawValue)
        if !ack.properties.isEmpty { ack.properties.encode(into: &buffer) }
    }

    private static func encodeReasonAndProperties(
        _ first: UInt8,
        _ code: MQTTReasonCode,
        _ properties: MQTTProperties,
        isV5: Bool,
        into buffer: inout ByteBuffer
    ) {
        guard isV5, code != .success || !properties.isEmpty else {
            writeHeader(first, bodyLength: 0, into: &buffer)
            return
        }
        let props = properties.isEmpty ? 0 : propertiesSize(properties.encodedLength)
        writeHeader(first, bodyLength: 1 + props, into: &buffer)
        buffer.writeInteger(code.rawValue)
        if !properties.isEmpty { properties.encode(into: &buffer) }
    }
}

extension MQTTPacket.Connect {
    func encode(into buffer: inout ByteBuffer) {
        let isV5 = protocolVersion == .v5
        let name = protocolVersion == .v3_1 ? "MQIsdp" : "MQTT"
        var length = 2 + name.utf8.count + 1 + 1 + 2
        if isV5 { length += MQTTPacket.propertiesSize(properties.encodedLength) }
        length += 2 + clientID.utf8.count
        if let will {
            if isV5 { length += MQTTPacket.propertiesSize(will.properties.encodedLength) }
            length += 2 + will.topic.utf8.count + 2 + will.payload.readableBytes
        }
        if let username { length += 2 + username.utf8.count }
        if let password { length += 2 + password.readableBytes }
        MQTTPacket.writeHeader(0x10, bodyLength: length, into: &buffer)
        buffer.writeMQTTString(name)
        buffer.writeInteger(protocolVersion.rawValue)
        var flags: UInt8 = 0
        if cleanStart { flags |= 0x02 }
        if let will {
            flags |= 0x04 | (will.qos.rawValue << 3)
            if will.retain { flags |= 0x20 }
        }
        if password != nil { flags |= 0x40 }
        if username != nil { flags |= 0x80 }
        buffer.writeInteger(flags)
        buffer.writeInteger(keepAlive)
        if isV5 { properties.encode(into: &buffer) }
        buffer.writeMQTTString(clientID)
        if let will {
            if isV5 { will.properties.encode(into: &buffer) }
            buffer.writeMQTTString(will.topic)
            buffer.writeMQTTBinary(will.payload)
        }
        if let username { buffer.writeMQTTString(username) }
        if let password { buffer.writeMQTTBinary(password) }
    }
}

extension MQTTPacket.Publish {
    /// Bytes this PUBLISH takes on the wire for `version`.
    public func encodedSize(version: MQTTProtocolVersion) -> Int {
        let body = bodyLength(version: version)
        return 1 + mqttVariableByteIntegerSize(body) + body
    }

    private func bodyLength(version: MQTTProtocolVersion) -> Int {
        var length = 2 + topic.utf8.count + payload.readableBytes
        if qos != .atMostOnce { length += 2 }
        if version == .v5 { length += MQTTPacket.propertiesSize(properties.encodedLength) }
        return length
    }

    /// Writes the PUBLISH for `version` (3.1.1 drops the properties).
    public func encode(into buffer: inout ByteBuffer, version: MQTTProtocolVersion) {
        var first: UInt8 = 0x30 | (qos.rawValue << 1)
        if dup { first |= 0x08 }
        if retain { first |= 0x01 }
        MQTTPacket.writeHeader(first, bodyLength: bodyLength(version: version), into: &buffer)
        buffer.writeMQTTString(topic)
        if qos != .atMostOnce { buffer.writeInteger(packetID) }
        if version == .v5 { properties.encode(into: &buffer) }
        buffer.writeImmutableBuffer(payload)
    }
}
