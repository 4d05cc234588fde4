import MossMQTT
import NIOCore

/// An application message inside the broker, shared by every subscriber it goes to (one allocation per publish).
final class Message: Sendable {
    let topic: String
    let payload: ByteBuffer
    let qos: MQTTQoS
    /// The RETAIN flag as published (forwarded only to subscriptions with Retain As Published).
    let retain: Bool
    /// Properties forwarded to v5 subscribers unaltered: payload format, content type, response topic,
    /// correlation data, user properties (in order). Topic alias, expiry and subscription ids are per delivery.
    let properties: MQTTProperties
    /// When the message expires (v5 Message Expiry Interval); nil = never.
    let expiresAt: NIODeadline?
    /// Wall-clock expiry in milliseconds since 1970, for persistence across restarts; 0 = never.
    let expiresAtWallMillis: Int64
    /// The publishing client's id, for No Local; nil for injected messages.
    let publisherClientID: String?

    init(
        topic: String,
        payload: ByteBuffer,
        qos: MQTTQoS,
        retain: Bool,
        properties: MQTTProperties,
        expiryInterval: UInt32?,
        publisherClientID: String?
    ) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.properties = properties
        self.publisherClientID = publisherClientID
        if let expiryInterval {
            self.expiresAt = .now() + .seconds(Int64(expiryInterval))
            self.expiresAtWallMillis = wallClockMillis() + Int64(expiryInterval) * 1000
        } else {
            self.expiresAt = nil
            self.expiresAtWallMillis = 0
        }
    }

    /// Restores a persisted message, converting its wall-clock expiry back to a monotonic deadline.
    init(
        topic: String,
        payload: ByteBuffer,
        qos: MQTTQoS,
        retain: Bool,
        properties: MQTTProperties,
        expiresAtWallMillis: Int64,
        publisherClientID: String?
    ) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.properties = properties
        self.publisherClientID = publisherClientID
        self.expiresAtWallMillis = expiresAtWallMillis
        if expiresAtWallMillis > 0 {
            let left = max(0, expiresAtWallMillis - wallClockMillis())
            self.expiresAt = .now() + .milliseconds(left)
        } else {
            self.expiresAt = nil
        }
    }

    func isExpired(now: NIODeadline) -> Bool {
        guard let expiresAt else { return false }
        return now >= expiresAt
    }

    /// Seconds left for the Message Expiry Interval forwarded to v5 subscribers (nil: no expiry).
    func remainingExpiry(now: NIODeadline) -> UInt32? {
        guard let expiresAt else { return nil }
        let nanos = (expiresAt - now).nanoseconds
        return UInt32(clamping: max(0, (nanos + 999_999_999) / 1_000_000_000))
    }

    /// Properties of a v5 publish that travel with the message (everything but alias, expiry and subscription ids).
    static func forwardedProperties(of properties: MQTTProperties) -> MQTTProperties {
        if properties.isEmpty { return properties }
        var kept = MQTTProperties()
        for property in properties.all {
            switch property {
            case .topicAlias, .messageExpiryInterval, .subscriptionIdentifier: continue
            default: kept.append(property)
            }
        }
        return kept
    }
}

/// One message on its way to one subscriber, with the options of the subscription(s) that matched.
struct Delivery: Sendable {
    let message: Message
    /// min(publish QoS, granted QoS), the highest over overlapping subscriptions.
    var qos: MQTTQoS
    /// The RETAIN flag to send.
    var retain: Bool
    /// Identifiers of every matching subscription that had one (v5).
    var subscriptionIdentifiers: [UInt32]
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

func wallClockMillis() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
