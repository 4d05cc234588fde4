import MossMQTT
import NIOCore

/// A session as persisted: subscriptions, undelivered messages and QoS 2 state, in a small binary format.
struct SessionRecord {
    struct Subscription {
        var filter: String
        var options: MQTTPacket.Subscription
        var identifier: UInt32?
    }

    struct Pending {
        var delivery: Delivery
        /// Non-zero when the message was in flight (it is resent with DUP).
        var packetID: UInt16
    }

    var clientID: String
    var expiryInterval: UInt32
    /// When the client went away (ms since 1970); 0 while connected.
    var disconnectedAtMillis: Int64
    var subscriptions: [Subscription]
    var pending: [Pending]
    /// Outbound QoS 2 packet ids whose PUBREL is still to be completed.
    var releasing: [UInt16]
    var incomingQoS2: [UInt16]

    private static let formatVersion: UInt8 = 1

    func encoded() -> [UInt8] {
        var buffer = ByteBuffer()
        buffer.writeInteger(Self.formatVersion)
        buffer.writeMQTTString(clientID)
        buffer.writeInteger(expiryInterval)
        buffer.writeInteger(disconnectedAtMillis)
        buffer.writeInteger(UInt32(subscriptions.count))
        for subscription in subscriptions {
            buffer.writeMQTTString(subscription.filter)
            let o = subscription.options
            var options = o.qos.rawValue | (o.retainHandling.rawValue << 4)
            if o.noLocal { options |= 0x04 }
            if o.retainAsPublished { options |= 0x08 }
            buffer.writeInteger(options)
            buffer.writeInteger(subscription.identifier ?? 0)
        }
        buffer.writeInteger(UInt32(pending.count))
        for item in pending {
            buffer.writeInteger(item.packetID)
            buffer.writeInteger(item.delivery.qos.rawValue)
            buffer.writeInteger(UInt8(item.delivery.retain ? 1 : 0))
            buffer.writeInteger(UInt16(item.delivery.subscriptionIdentifiers.count))
            for id in item.delivery.subscriptionIdentifiers { buffer.writeInteger(id) }
            Self.write(item.delivery.message, into: &buffer)
        }
        buffer.writeInteger(UInt32(releasing.count))
        for id in releasing { buffer.writeInteger(id) }
        buffer.writeInteger(UInt32(incomingQoS2.count))
        for id in incomingQoS2 { buffer.writeInteger(id) }
        return Array(buffer.readableBytesView)
    }

    static func decode(_ bytes: [UInt8]) throws -> SessionRecord {
        var buffer = ByteBuffer(bytes: bytes)
        guard buffer.readInteger(as: UInt8.self) == formatVersion else { throw RecordError.unknownFormat }
        let clientID = try readString(&buffer)
        let expiry: UInt32 = try read(&buffer)
        let disconnectedAt: Int64 = try read(&buffer)
        var subscriptions: [Subscription] = []
        for _ in 0..<(try read(&buffer) as UInt32) {
            let filter = try readString(&buffer)
            let options: UInt8 = try read(&buffer)
            let identifier: UInt32 = try read(&buffer)
            subscriptions.append(
                .init(
                    filter: filter,
                    options: .init(
                        filter: filter,
                        qos: MQTTQoS(rawValue: options & 0x03) ?? .atMostOnce,
                        noLocal: options & 0x04 != 0,
                        retainAsPublished: options & 0x08 != 0,
                        retainHandling: MQTTPacket.RetainHandling(rawValue: (options >> 4) & 0x03) ?? .sendOnSubscribe
                    ),
                    identifier: identifier == 0 ? nil : identifier
                )
            )
        }
        var pending: [Pending] = []
        for _ in 0..<(try read(&buffer) as UInt32) {
            let packetID: UInt16 = try read(&buffer)
            let qos = MQTTQoS(rawValue: try read(&buffer)) ?? .atLeastOnce
            let retain = (try read(&buffer) as UInt8) == 1
            var ids: [UInt32] = []
            for _ in 0..<(try read(&buffer) as UInt16) { ids.append(try read(&buffer)) }
            let message = try readMessage(&buffer)
            pending.append(
                .init(
                    delivery: .init(message: message, qos: qos, retain: retain, subscriptionIdentifiers: ids),
                    packetID: packetID
                )
            )
        }
        var releasing: [UInt16] = []
        for _ in 0..<(try read(&buffer) as UInt32) { releasing.append(try read(&buffer)) }
        var incoming: [UInt16] = []
        for _ in 0..<(try read(&buffer) as UInt32) { incoming.append(try read(&buffer)) }
        return SessionRecord(
            clientID: clientID,
            expiryInterval: expiry,
            disconnectedAtMillis: disconnectedAt,
            subscriptions: subscriptions,
            pending: pending,
            releasing: releasing,
            incomingQoS2: incoming
        )
    }

    enum RecordError: Error { case unknownFormat, truncated }

    static func write(_ message: Message, into buffer: inout ByteBuffer) {
        buffer.writeMQTTString(message.topic)
        buffer.writeInteger(UInt32(message.payload.readableBytes))
        buffer.writeImmutableBuffer(message.payload)
        buffer.writeInteger(message.qos.rawValue)
        buffer.writeInteger(UInt8(message.retain ? 1 : 0))
        message.properties.encode(into: &buffer)
        buffer.writeInteger(message.expiresAtWallMillis)
        if let publisher = message.publisherClientID {
            buffer.writeInteger(UInt8(1))
            buffer.writeMQTTString(publisher)
        } else {
            buffer.writeInteger(UInt8(0))
        }
    }

    static func readMessage(_ buffer: inout ByteBuffer) throws -> Message {
        let topic = try readString(&buffer)
        let length: UInt32 = try read(&buffer)
        guard let payload = buffer.readSlice(length: Int(length)) else { throw RecordError.truncated }
        let qos = MQTTQoS(rawValue: try read(&buffer)) ?? .atMostOnce
        let retain = (try read(&buffer) as UInt8) == 1
        let properties = try MQTTProperties.decode(from: &buffer, context: .publish)
        let expiresAt: Int64 = try read(&buffer)
        let publisher = (try read(&buffer) as UInt8) == 1 ? try readString(&buffer) : nil
        return Message(
            topic: topic,
            payload: payload,
            qos: qos,
            retain: retain,
            properties: properties,
            expiresAtWallMillis: expiresAt,
            publisherClientID: publisher
        )
    }

    static func encodeRetained(_ message: Message) -> [UInt8] {
        var buffer = ByteBuffer()
        buffer.writeInteger(formatVersion)
        write(message, into: &buffer)
        return Array(buffer.readableBytesView)
    }

    static func decodeRetained(_ bytes: [UInt8]) throws -> Message {
        var buffer = ByteBuffer(bytes: bytes)
        guard buffer.readInteger(as: UInt8.self) == formatVersion else { throw RecordError.unknownFormat }
        return try readMessage(&buffer)
    }

    private static func read<T: FixedWidthInteger>(_ buffer: inout ByteBuffer) throws -> T {
        guard let value: T = buffer.readInteger() else { throw RecordError.truncated }
        return value
    }

    private static func readString(_ buffer: inout ByteBuffer) throws -> String {
        let length: UInt16 = try read(&buffer)
        guard let string = buffer.readString(length: Int(length)) else { throw RecordError.truncated }
        return string
    }
}
