import MossMQTT
import Testing

/// A topic or filter with the validation result expected; nil means valid.
struct TopicValidationCase: Sendable, CustomTestStringConvertible {
    var topic: String
    var problem: MQTTTopic.Problem?

    var testDescription: String {
        let shown = topic.count > 40 ? "\(topic.prefix(20))… (\(topic.utf8.count) bytes)" : "'\(topic)'"
        return "\(shown) → \(problem.map { "\($0)" } ?? "valid")"
    }

    init(_ topic: String, _ problem: MQTTTopic.Problem? = nil) {
        self.topic = topic
        self.problem = problem
    }
}

private let levels200 = Array(repeating: "l", count: 200).joined(separator: "/")
private let levels201 = Array(repeating: "l", count: 201).joined(separator: "/")
private let bytes65535 = String(repeating: "x", count: 65_535)
private let bytes65536 = String(repeating: "x", count: 65_536)

let topicNameCases: [TopicValidationCase] = [
    .init("a"),
    .init("a/b/c"),
    .init("/"),
    .init("/a"),
    .init("a/"),
    .init("a//b"),
    .init(" "),
    .init("$SYS/broker/version"),
    .init("température/°C/😀"),
    .init(levels200),
    .init(bytes65535),
    .init("", .empty),
    .init("a/+", .wildcardInTopicName),
    .init("+", .wildcardInTopicName),
    .init("#", .wildcardInTopicName),
    .init("a/#", .wildcardInTopicName),
    .init("a+b", .wildcardInTopicName),
    .init("a\u{0}b", .containsNull),
    .init(levels201, .tooManyLevels),
    .init(bytes65536, .tooLong),
]

let topicFilterCases: [TopicValidationCase] = [
    .init("a"),
    .init("#"),
    .init("+"),
    .init("+/+"),
    .init("/"),
    .init("/#"),
    .init("+/"),
    .init("a/#"),
    .init("a/+/c"),
    .init("+/#"),
    .init("a//b"),
    .init("$SYS/#"),
    .init("sport/tennis/player1/#"),
    .init("température/+"),
    .init(levels200),
    .init(Array(repeating: "+", count: 199).joined(separator: "/") + "/#"),
    .init("", .empty),
    .init("a/#/b", .misplacedWildcard),
    .init("#/", .misplacedWildcard),
    .init("#/a", .misplacedWildcard),
    .init("a+/b", .misplacedWildcard),
    .init("a/+b", .misplacedWildcard),
    .init("a/b+", .misplacedWildcard),
    .init("a/b#", .misplacedWildcard),
    .init("sport/tennis#", .misplacedWildcard),
    .init("++", .misplacedWildcard),
    .init("##", .misplacedWildcard),
    .init("+#", .misplacedWildcard),
    .init("a\u{0}", .containsNull),
    .init(levels201, .tooManyLevels),
    .init(bytes65536, .tooLong),
]

/// (filter, topic, matches)
struct MatchCase: Sendable, CustomTestStringConvertible {
    var filter: String
    var topic: String
    var matches: Bool
    var testDescription: String { "'\(filter)' \(matches ? "matches" : "does not match") '\(topic)'" }
    init(_ filter: String, _ topic: String, _ matches: Bool) {
        self.filter = filter
        self.topic = topic
        self.matches = matches
    }
}

let matchCases: [MatchCase] = [
    .init("a/b", "a/b", true),
    .init("a/b", "a/c", false),
    .init("a/b", "a/b/c", false),
    .init("a/b/c", "a/b", false),
    .init("A", "a", false),
    .init("a/+", "a/b", true),
    .init("a/+", "a/b/c", false),
    .init("a/+", "a", false),
    .init("a/+", "a/", true),
    .init("a/+/c", "a/b/c", true),
    .init("a/+/c", "a//c", true),
    .init("a/+/c", "a/b/d", false),
    .init("a/#", "a", true),
    .init("a/#", "a/", true),
    .init("a/#", "a/b/c", true),
    .init("a/#", "ab", false),
    .init("a/#", "b/a", false),
    .init("a/+/#", "a/b", true),
    .init("a/+/#", "a", false),
    .init("sport/tennis/player1/#", "sport/tennis/player1", true),
    .init("sport/tennis/player1/#", "sport/tennis/player1/ranking", true),
    .init("sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true),
    .init("sport/+", "sport", false),
    .init("sport/+", "sport/", true),
    .init("#", "a", true),
    .init("#", "a/b/c", true),
    .init("#", "/", true),
    .init("+", "a", true),
    .init("+", "a/b", false),
    .init("+", "/a", false),
    .init("+/x", "/x", true),  // '+' matches the empty first level
    .init("+/+", "/", true),
    .init("/+", "/x", true),
    .init("/+", "x", false),
    .init("a//b", "a//b", true),
    .init("ü/+", "ü/x", true),
    // $-topics are never matched by a leading wildcard [MQTT-4.7.2-1].
    .init("#", "$SYS/broker/load", false),
    .init("#", "$SYS", false),
    .init("+", "$SYS", false),
    .init("+/broker/load", "$SYS/broker/load", false),
    .init("+/#", "$SYS/x", false),
    .init("$SYS/#", "$SYS/broker/load", true),
    .init("$SYS/#", "$SYS", true),
    .init("$SYS/+/load", "$SYS/broker/load", true),
    .init("$SYS/broker/load", "$SYS/broker/load", true),
    .init("$other/#", "$other/x", true),
    .init("a/+", "a/$x", true),  // only the first level is special
    .init("a/#", "a/$x/y", true),
    // Matching compares bytes, not Unicode-equivalent characters.
    .init("a/\u{E9}", "a/e\u{301}", false),
    .init("a/+", "a/\u{301}b", true),  // a combining mark after '/' starts a new level
    .init("+/#", "$\u{301}x", false),  // a '$' with a combining mark is still a '$' topic
]

/// (filter, filter, overlap)
struct OverlapCase: Sendable, CustomTestStringConvertible {
    var a: String
    var b: String
    var overlap: Bool
    var testDescription: String { "'\(a)' and '\(b)' \(overlap ? "overlap" : "are disjoint")" }
    init(_ a: String, _ b: String, _ overlap: Bool) {
        self.a = a
        self.b = b
        self.overlap = overlap
    }
}

let overlapCases: [OverlapCase] = [
    .init("a/b", "a/b", true),
    .init("a/b", "a/c", false),
    .init("a/+", "a/b", true),
    .init("a/+", "a", false),
    .init("a/#", "a", true),
    .init("a/#", "a/b/c", true),
    .init("a/#", "b/#", false),
    .init("+/b", "a/+", true),
    .init("a/+/c", "a/b/d", false),
    .init("a/b/#", "a/+", true),
    .init("a/+/#", "a/b/c/d", true),
    .init("+", "+", true),
    .init("#", "#", true),
    .init("#", "+", true),
    .init("#", "a/b/c", true),
    .init("+", "a/b", false),
    .init("+/+", "a", false),
    .init("+/+", "a/b/c", false),
    .init("+/+/#", "a", false),
    .init("+/#", "a", true),
    .init("#", "$SYS/x", false),
    .init("+/x", "$SYS/x", false),
    .init("+/#", "$SYS/#", false),
    .init("$SYS/+", "+/x", false),
    .init("$SYS/#", "$SYS/+", true),
    .init("$SYS/#", "$SYS", true),
    .init("/+", "+/x", true),
    // Levels are compared as bytes: canonically equivalent spellings are different topics.
    .init("a/\u{E9}", "a/e\u{301}", false),
    .init("a/\u{301}b", "a/+", true),
    .init("a/\u{301}b/c", "a/+/c", true),
    .init("+", "$\u{301}x", false),
    .init("#", "$\u{301}/x", false),
]

@Suite("MQTT topic names and filters")
struct MQTTTopicTests {
    @Test("validateName", arguments: topicNameCases)
    func validateName(_ testCase: TopicValidationCase) {
        if let problem = testCase.problem {
            #expect(throws: problem) { try MQTTTopic.validateName(testCase.topic) }
        } else {
            #expect(throws: Never.self) { try MQTTTopic.validateName(testCase.topic) }
        }
    }

    @Test("validateFilter", arguments: topicFilterCases)
    func validateFilter(_ testCase: TopicValidationCase) {
        if let problem = testCase.problem {
            #expect(throws: problem) { try MQTTTopic.validateFilter(testCase.topic) }
        } else {
            #expect(throws: Never.self) { try MQTTTopic.validateFilter(testCase.topic) }
        }
    }

    @Test("matches(filter:topic:)", arguments: matchCases)
    func matches(_ testCase: MatchCase) throws {
        try MQTTTopic.validateFilter(testCase.filter)
        try MQTTTopic.validateName(testCase.topic)
        #expect(MQTTTopic.matches(filter: testCase.filter, topic: testCase.topic) == testCase.matches)
    }

    @Test("filtersOverlap is symmetric and as expected", arguments: overlapCases)
    func filtersOverlap(_ testCase: OverlapCase) throws {
        try MQTTTopic.validateFilter(testCase.a)
        try MQTTTopic.validateFilter(testCase.b)
        #expect(MQTTTopic.filtersOverlap(testCase.a, testCase.b) == testCase.overlap)
        #expect(MQTTTopic.filtersOverlap(testCase.b, testCase.a) == testCase.overlap)
    }

    /// Two filters that both match some topic must be reported as overlapping.
    @Test("filtersOverlap agrees with matches on every topic of the tables")
    func overlapAgreesWithMatching() {
        let filters = Set(matchCases.map(\.filter) + overlapCases.flatMap { [$0.a, $0.b] })
        let topics = Set(matchCases.map(\.topic)).union(["a/b/c/d", "a", "x", "$SYS/x", "a/b", "b"])
        var checked = 0
        for a in filters {
            for b in filters {
                for topic in topics
                where MQTTTopic.matches(filter: a, topic: topic) && MQTTTopic.matches(filter: b, topic: topic) {
                    checked += 1
                    #expect(MQTTTopic.filtersOverlap(a, b), "'\(a)' and '\(b)' both match '\(topic)'")
                }
            }
        }
        #expect(checked > 100)
    }

    @Test(
        "sharedSubscription parses $share/{group}/{filter}",
        arguments: [
            ("$share/g/a/b", "g", "a/b"),
            ("$share/g/#", "g", "#"),
            ("$share/group-1/+/x", "group-1", "+/x"),
            ("$share/g/$SYS/#", "g", "$SYS/#"),
            ("$share/grüppe//", "grüppe", "/"),
            ("$share/\u{301}g/a", "\u{301}g", "a"),  // '/' followed by a combining mark still ends "$share/"
        ]
    )
    func sharedSubscription(filter: String, group: String, inner: String) throws {
        let shared = try #require(try MQTTTopic.sharedSubscription(filter))
        #expect(shared.group == group)
        #expect(shared.filter == inner)
    }

    @Test(
        "ordinary filters are not shared subscriptions",
        arguments: ["a/b", "#", "$SYS/#", "$shared/g/a", "$share", "share/g/a", "$SHARE/g/a"]
    )
    func notShared(filter: String) throws {
        #expect(try MQTTTopic.sharedSubscription(filter) == nil)
    }

    @Test(
        "malformed shared subscriptions are refused",
        arguments: [
            "$share/", "$share/g", "$share//a", "$share/g/", "$share/g+/a", "$share/+/a", "$share/#/a", "$share/a#/b",
            "$share/+\u{338}/a", "$share/g#\u{301}/a",
        ]
    )
    func malformedShared(filter: String) {
        #expect(throws: MQTTTopic.Problem.malformedSharedSubscription) { _ = try MQTTTopic.sharedSubscription(filter) }
    }
}
