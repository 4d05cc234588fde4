import MossMQTT
import Testing

@testable import MossCloud

/// One connection's subscription bookkeeping: restoring after CONNACK, AWS's 8 filters per SUBSCRIBE, changes.
@Suite struct CloudSessionTests {
    static func filters(of packets: [MQTTPacket]) -> [[String]] {
        packets.map { packet in
            switch packet {
            case .subscribe(let subscribe): subscribe.subscriptions.map(\.filter)
            case .unsubscribe(let unsubscribe): ["-"] + unsubscribe.filters
            default: []
            }
        }
    }

    @Test func afterConnackEveryFilterIsSubscribedEightPerPacketAtQoS1() {
        let session = CloudSession()
        let wanted = Set((1...10).map { "t/\($0)" })
        let packets = session.connected(subscribing: wanted)
        #expect(session.isConnected)
        #expect(Self.filters(of: packets).map(\.count) == [8, 2])
        #expect(Set(Self.filters(of: packets).joined()) == wanted)
        for case .subscribe(let subscribe) in packets {
            #expect(subscribe.subscriptions.allSatisfy { $0.qos == .atLeastOnce })
            #expect(subscribe.packetID > CloudSpooler.maximumPacketID)
        }
    }

    @Test func theLastSubackOfTheFirstSubscriptionsIsReported() throws {
        let session = CloudSession()
        let packets = session.connected(subscribing: Set((1...9).map { "t/\($0)" }))
        let ids = packets.compactMap { packet -> UInt16? in
            if case .subscribe(let subscribe) = packet { return subscribe.packetID }
            return nil
        }
        #expect(ids.count == 2)
        #expect(session.subscribed(packetID: ids[0]).allInitialAcknowledged == false)
        let last = session.subscribed(packetID: ids[1])
        #expect(last.allInitialAcknowledged && last.filters == ["t/9"])
    }

    @Test func aChangeSubscribesTheNewAndUnsubscribesTheGone() {
        let session = CloudSession()
        _ = session.connected(subscribing: ["a", "b"])
        let packets = session.change(to: ["b", "c"])
        #expect(Self.filters(of: packets) == [["c"], ["-", "a"]])
        #expect(session.change(to: ["b", "c"]).isEmpty)
    }

    @Test func nothingWantedMeansNoSubscribe() {
        #expect(CloudSession().connected(subscribing: []).isEmpty)
    }
}
