import MossMQTT
import NIOCore
import NIOEmbedded
import Testing

@testable import MossBroker

enum EmbeddedEventLoopHolder {
    static let loop = EmbeddedEventLoop()
}

@Suite("Persisted records")
struct SessionRecordTests {
    @Test func sessionRecordRoundTrips() throws {
        let message = Message(
            topic: "a/b",
            payload: ByteBuffer(string: "payload"),
            qos: .exactlyOnce,
            retain: true,
            properties: [.userProperty("k", "v"), .userProperty("k", "w"), .contentType("text/plain")],
            expiryInterval: 60,
            publisherClientID: "pub"
        )
        let record = SessionRecord(
            clientID: "client",
            expiryInterval: 3600,
            disconnectedAtMillis: 1234,
            subscriptions: [.init(filter: "$share/g/x/+", options: .init(filter: "$share/g/x/+", qos: .atLeastOnce, retainHandling: .doNotSend), identifier: 7)],
            pending: [.init(delivery: .init(message: message, qos: .atLeastOnce, retain: false, subscriptionIdentifiers: [7, 9]), packetID: 42)],
            releasing: [3],
            incomingQoS2: [5, 6]
        )
        let decoded = try SessionRecord.decode(record.encoded())
        #expect(decoded.clientID == "client")
        #expect(decoded.expiryInterval == 3600)
        #expect(decoded.subscriptions.first?.options.qos == .atLeastOnce)
        #expect(decoded.subscriptions.first?.options.retainHandling == .doNotSend)
        #expect(decoded.subscriptions.first?.identifier == 7)
        let pending = try #require(decoded.pending.first)
        #expect(pending.packetID == 42)
        #expect(pending.delivery.subscriptionIdentifiers == [7, 9])
        #expect(pending.delivery.message.topic == "a/b")
        #expect(pending.delivery.message.payload == ByteBuffer(string: "payload"))
        #expect(pending.delivery.message.properties == message.properties)
        #expect(pending.delivery.message.expiresAtWallMillis == message.expiresAtWallMillis)
        #expect(pending.delivery.message.publisherClientID == "pub")
        #expect(decoded.releasing == [3])
        #expect(Set(decoded.incomingQoS2) == [5, 6])
    }

    @Test func truncatedRecordIsRefused() {
        let record = SessionRecord(clientID: "c", expiryInterval: 1, disconnectedAtMillis: 0, subscriptions: [], pending: [], releasing: [], incomingQoS2: [])
        let bytes = record.encoded()
        #expect(throws: SessionRecord.RecordError.self) { try SessionRecord.decode(Array(bytes.dropLast(3))) }
    }
}
