public import NIOCore

/// The MQTT protocol level a connection speaks.
public enum MQTTProtocolVersion: UInt8, Sendable, Hashable, CustomStringConvertible {
    /// MQTT 3.1 ("MQIsdp"), accepted with 3.1.1 semantics as mosquitto does.
    case v3_1 = 3
    case v3_1_1 = 4
    case v5 = 5

    public var description: String {
        switch self {
        case .v3_1: "3.1"
        case .v3_1_1: "3.1.1"
        case .v5: "5.0"
        }
    }
}

/// Quality of service of a message or a subscription.
public enum MQTTQoS: UInt8, Sendable, Hashable, Comparable, Codable {
    case atMostOnce = 0
    case atLeastOnce = 1
    case exactlyOnce = 2

    public static func < (lhs: MQTTQoS, rhs: MQTTQoS) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Every MQTT 3.1.1 and 5.0 control packet.
public enum MQTTPacket: Sendable, Hashable {
    case connect(Connect)
    case connack(ConnAck)
    case publish(Publish)
    case puback(Ack)
    case pubrec(Ack)
    case pubrel(Ack)
    case pubcomp(Ack)
    case subscribe(Subscribe)
    case suback(SubAck)
    case unsubscribe(Unsubscribe)
    case unsuback(UnsubAck)
    case pingreq
    case pingresp
    case disconnect(Disconnect)
    case auth(Auth)

    /// The fixed-header packet type (upper four bits of the first byte).
    public var packetType: UInt8 {
        switch self {
        case .connect: 1
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
        case .pingreq: 12
        case .pingresp: 13
        case .disconnect: 14
        case .auth: 15
        }
    }
}

extension MQTTPacket {
    /// CONNECT: the first packet a client sends.
    public struct Connect: Sendable, Hashable {
        public var protocolVersion: MQTTProtocolVersion
        public var clientID: String
        public var cleanStart: Bool
        public var keepAlive: UInt16
        public var will: Will?
        public var username: String?
        public var password: ByteBuffer?
        public var properties: MQTTProperties

        public init(
            protocolVersion: MQTTProtocolVersion = .v3_1_1,
            clientID: String,
            cleanStart: Bool = true,
            keepAlive: UInt16 = 60,
            will: Will? = nil,
            username: String? = nil,
            password: ByteBuffer? = nil,
            properties: MQTTProperties = .init()
        ) {
            self.protocolVersion = protocolVersion
            self.clientID = clientID
            self.cleanStart = cleanStart
            self.keepAlive = keepAlive
            self.will = will
            self.username = username
            self.password = password
            self.properties = properties
        }
    }

    /// The will message of a CONNECT.
    public struct Will: Sendable, Hashable {
        public var topic: String
        public var payload: ByteBuffer
        public var qos: MQTTQoS
        public var retain: Bool
        public var properties: MQTTProperties

        public init(
            topic: String,
            payload: ByteBuffer,
            qos: MQTTQoS = .atMostOnce,
            retain: Bool = false,
            properties: MQTTProperties = .init()
        ) {
            self.topic = topic
            self.payload = payload
            self.qos = qos
            self.retain = retain
            self.properties = properties
        }
    }

    /// CONNACK. `reasonCode` is the 3.1.1 return code (0–5) or a 5.0 reason code.
    public struct ConnAck: Sendable, Hashable {
        public var sessionPresent: Bool
        public var reasonCode: MQTTReasonCode
        public var properties: MQTTProperties

        public init(sessionPresent: Bool = false, reasonCode: MQTTReasonCode = .success, properties: MQTTProperties = .init()) {
            self.sessionPresent = sessionPresent
            self.reasonCode = reasonCode
            self.properties = properties
        }
    }

    /// PUBLISH. `packetID` is 0 for QoS 0.
    public struct Publish: Sendable, Hashable {
        public var topic: String
        public var payload: ByteBuffer
        public var qos: MQTTQoS
        public var retain: Bool
        public var dup: Bool
        public var packetID: UInt16
        public var properties: MQTTProperties

        public init(
            topic: String,
            payload: ByteBuffer,
            qos: MQTTQoS = .atMostOnce,
            retain: Bool = false,
            dup: Bool = false,
            packetID: UInt16 = 0,
            properties: MQTTProperties = .init()
        ) {
            self.topic = topic
            self.payload = payload
            self.qos = qos
            self.retain = retain
            self.dup = dup
            self.packetID = packetID
            self.properties = properties
        }
    }

    /// PUBACK, PUBREC, PUBREL and PUBCOMP share one shape.
    public struct Ack: Sendable, Hashable {
        public var packetID: UInt16
        public var reasonCode: MQTTReasonCode
        public var properties: MQTTProperties

        public init(packetID: UInt16, reasonCode: MQTTReasonCode = .success, properties: MQTTProperties = .init()) {
            self.packetID = packetID
            self.reasonCode = reasonCode
            self.properties = properties
        }
    }

    /// Retain Handling of a v5 subscription.
    public enum RetainHandling: UInt8, Sendable, Hashable {
        case sendOnSubscribe = 0
        case sendOnNewSubscription = 1
        case doNotSend = 2
    }

    /// One filter of a SUBSCRIBE with its options.
    public struct Subscription: Sendable, Hashable {
        public var filter: String
        public var qos: MQTTQoS
        public var noLocal: Bool
        public var retainAsPublished: Bool
        public var retainHandling: RetainHandling

        public init(
            filter: String,
            qos: MQTTQoS = .atMostOnce,
            noLocal: Bool = false,
            retainAsPublished: Bool = false,
            retainHandling: RetainHandling = .sendOnSubscribe
        ) {
            self.filter = filter
            self.qos = qos
            self.noLocal = noLocal
            self.retainAsPublished = retainAsPublished
            self.retainHandling = retainHandling
        }
    }

    public struct Subscribe: Sendable, Hashable {
        public var packetID: UInt16
        public var subscriptions: [Subscription]
        public var properties: MQTTProperties

        public init(packetID: UInt16, subscriptions: [Subscription], properties: MQTTProperties = .init()) {
            self.packetID = packetID
            self.subscriptions = subscriptions
            self.properties = properties
        }
    }

    /// SUBACK: one reason code (3.1.1: granted QoS or 0x80) per requested filter.
    public struct SubAck: Sendable, Hashable {
        public var packetID: UInt16
        public var reasonCodes: [MQTTReasonCode]
        public var properties: MQTTProperties

        public init(packetID: UInt16, reasonCodes: [MQTTReasonCode], properties: MQTTProperties = .init()) {
            self.packetID = packetID
            self.reasonCodes = reasonCodes
            self.properties = properties
        }
    }

    public struct Unsubscribe: Sendable, Hashable {
        public var packetID: UInt16
        public var filters: [String]
        public var properties: MQTTProperties

        public init(packetID: UInt16, filters: [String], properties: MQTTProperties = .init()) {
            self.packetID = packetID
            self.filters = filters
            self.properties = properties
        }
    }

    /// UNSUBACK: reason codes exist in 5.0 only; a 3.1.1 UNSUBACK carries none.
    public struct UnsubAck: Sendable, Hashable {
        public var packetID: UInt16
        public var reasonCodes: [MQTTReasonCode]
        public var properties: MQTTProperties

        public init(packetID: UInt16, reasonCodes: [MQTTReasonCode] = [], properties: MQTTProperties = .init()) {
            self.packetID = packetID
            self.reasonCodes = reasonCodes
            self.properties = properties
        }
    }

    public struct Disconnect: Sendable, Hashable {
        public var reasonCode: MQTTReasonCode
        public var properties: MQTTProperties

        public init(reasonCode: MQTTReasonCode = .success, properties: MQTTProperties = .init()) {
            self.reasonCode = reasonCode
            self.properties = properties
        }
    }

    /// AUTH (5.0 enhanced authentication).
    public struct Auth: Sendable, Hashable {
        public var reasonCode: MQTTReasonCode
        public var properties: MQTTProperties

        public init(reasonCode: MQTTReasonCode = .success, properties: MQTTProperties = .init()) {
            self.reasonCode = reasonCode
            self.properties = properties
        }
    }
}
