import Logging
import MossMQTT
import Testing

@testable import MossBroker

@Suite("Subscription tree")
struct SubscriptionTreeTests {
    private func matches(_ tree: SubscriptionTree, _ topic: String) -> [String] {
        var ids: [String] = []
        tree.forEachMatch(topic: topic) { ids.append($0.session.clientID + ":" + $0.options.filter) }
        return ids.sorted()
    }

    private func subscribe(_ tree: SubscriptionTree, _ session: Session, _ filter: String, group: String? = nil) {
        tree.insert(
            filter: filter,
            sharedGroup: group,
            entry: .init(session: session, options: .init(filter: filter), identifier: nil, shared: group != nil)
        )
    }

    @Test(arguments: [
        ("a/b", ["s:#", "s:+/b", "s:a/#", "s:a/+", "s:a/b"]),
        ("a", ["s:#", "s:a/#"]),
        ("a/b/c", ["s:#", "s:a/#"]),
        ("$SYS/x", ["s:$SYS/#"]),
        ("/b", ["s:#", "s:+/b"]),
    ])
    func matchesWhatTheSpecSays(topic: String, expected: [String]) {
        let core = makeCore()
        let tree = SubscriptionTree()
        let session = Session(clientID: "s", core: core)
        for filter in ["#", "a/#", "a/+", "a/b", "+/b", "$SYS/#", "x/y"] { subscribe(tree, session, filter) }
        #expect(matches(tree, topic) == expected)
    }

    @Test func resubscribingReplacesAndRemovingPrunes() {
        let core = makeCore()
        let tree = SubscriptionTree()
        let session = Session(clientID: "s", core: core)
        subscribe(tree, session, "a/b/c")
        subscribe(tree, session, "a/b/c")
        #expect(tree.count == 1)
        #expect(tree.remove(filter: "a/b/c", sharedGroup: nil, session: session))
        #expect(!tree.remove(filter: "a/b/c", sharedGroup: nil, session: session))
        #expect(tree.count == 0)
        #expect(matches(tree, "a/b/c").isEmpty)
    }

    @Test func sharedGroupDeliversToOneMemberInTurn() {
        let core = makeCore()
        let tree = SubscriptionTree()
        let one = Session(clientID: "one", core: core)
        let two = Session(clientID: "two", core: core)
        subscribe(tree, one, "t", group: "g")
        subscribe(tree, two, "t", group: "g")
        let picks = (0..<4).map { _ in matches(tree, "t") }
        #expect(picks.allSatisfy { $0.count == 1 })
        #expect(Set(picks.flatMap { $0 }) == ["one:t", "two:t"])
    }
}

func makeCore() -> BrokerCore {
    BrokerCore(
        limits: .init(),
        interceptor: DefaultBrokerInterceptor(),
        timerLoop: EmbeddedEventLoopHolder.loop,
        logger: .init(label: "test")
    )
}
