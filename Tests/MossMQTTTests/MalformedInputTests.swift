import MossMQTT
import NIOCore
import Testing

/// Bytes the decoder must refuse with exactly `expected`.
struct MalformedCase: Sendable, CustomTestStringConvertible {
    var name: String
    /// nil: a fresh server-side connection that has not seen CONNECT yet.
    var version: MQTTProtocolVersion?
    var maximumPacketSize: Int
    var bytes: [UInt8]
    var expected: MQTTCodecError
    /// The 5.0 reason code the server sends before closing.
    var reasonCode: MQTTReasonCode

    var testDescription: String { name }

    init(
        _ name: String,
        _ version: MQTTProtocolVersion?,
        _ bytes: [UInt8],
        _ expected: MQTTCodecError,
        _ reasonCode: MQTTReasonCode = .malformedPacket,
        maximumPacketSize: Int = 268_435_460
    ) {
        self.name = name
        self.version = version
        self.maximumPacketSize = maximumPacketSize
        self.bytes = bytes
        self.expected = expected
        self.reasonCode = reasonCode
    }
}

private typealias W = Wire

private let wildcardInName = MQTTTopic.Problem.wildcardInTopicName.description

/// A 5.0 PUBLISH QoS 0 on topic "t" with the given property bytes.
private func publishV5(properties: [UInt8], topic: [UInt8] = W.str("t")) -> [UInt8] {
    W.packet(0x30, topic + W.properties(properties) + Array("p".utf8))
}

/// A 5.0 CONNECT with client id "c" and the given property bytes.
private func connectV5(properties: [UInt8]) -> [UInt8] {
    W.connect(level: 5, properties: properties, payload: W.str("c"))
}

/// Every fixed-header flag violation: SUBSCRIBE, UNSUBSCRIBE and PUBREL need 0x2, every other type except PUBLISH 0.
private let flagCases: [MalformedCase] = [UInt8](1...15).filter { $0 != 3 }.flatMap { type -> [MalformedCase] in
    let required: UInt8 = [6, 8, 10].contains(type) ? 0x2 : 0x0
    return [UInt8]([0x1, 0x2, 0x8]).map { bit in
        let flags = required ^ bit
        return MalformedCase(
            "fixed header flags 0x\(String(flags, radix: 16)) on packet type \(type)",
            type == 1 ? nil : .v5,
            [type << 4 | flags, 0x00],
            .invalidFixedHeaderFlags(type: type, flags: flags)
        )
    }
}

let malformedCases: [MalformedCase] =
    flagCases + [
        // Remaining length and size.
        .init(
            "5-byte remaining length (CONNECT)",
            nil,
            [0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F],
            .malformedRemainingLength
        ),
        .init(
            "5-byte remaining length (PUBLISH)",
            .v5,
            [0x30, 0x80, 0x80, 0x80, 0x80, 0x01],
            .malformedRemainingLength
        ),
        .init(
            "CONNECT header declaring 268435455 bytes, header only",
            nil,
            [0x10, 0xFF, 0xFF, 0xFF, 0x7F],
            .packetTooLarge(size: 268_435_460, limit: 131_072),
            .packetTooLarge,
            maximumPacketSize: 131_072
        ),
        .init(
            "PUBLISH over maximumPacketSize, header only",
            .v3_1_1,
            [0x32, 0xC8, 0x01],
            .packetTooLarge(size: 203, limit: 100),
            .packetTooLarge,
            maximumPacketSize: 100
        ),
        // Packet types and order.
        .init("reserved packet type 0 (3.1.1)", .v3_1_1, [0x00, 0x00], .reservedPacketType),
        .init("reserved packet type 0 (5.0)", .v5, [0x00, 0x00], .reservedPacketType),
        .init(
            "first packet PUBLISH",
            nil,
            [0x30, 0x03, 0x00, 0x01, 0x74],
            .firstPacketNotConnect(type: 3),
            .protocolError
        ),
        .init("first packet PINGREQ", nil, [0xC0, 0x00], .firstPacketNotConnect(type: 12), .protocolError),
        .init("first packet reserved type 0", nil, [0x00, 0x00], .firstPacketNotConnect(type: 0), .protocolError),
        .init(
            "first packet PUBLISH with a huge declared length",
            nil,
            [0x30, 0xFF, 0xFF, 0xFF, 0x7F],
            .firstPacketNotConnect(type: 3),
            .protocolError
        ),
        .init(
            "second CONNECT (3.1.1)",
            .v3_1_1,
            W.connect(level: 4),
            .protocolViolation("a second CONNECT on the same connection"),
            .protocolError
        ),
        .init(
            "second CONNECT (5.0)",
            .v5,
            W.connect(level: 5),
            .protocolViolation("a second CONNECT on the same connection"),
            .protocolError
        ),
        .init(
            "AUTH in 3.1.1",
            .v3_1_1,
            [0xF0, 0x00],
            .protocolViolation("AUTH exists only in MQTT 5.0"),
            .protocolError
        ),
        // CONNECT variable header.
        .init("unknown protocol name", nil, W.connect(name: "MQTX", payload: W.str("c")), .unknownProtocolName("MQTX")),
        .init(
            "unsupported protocol level 6",
            nil,
            W.connect(level: 6, payload: W.str("c")),
            .unsupportedProtocolVersion(6),
            .unsupportedProtocolVersion
        ),
        .init(
            "protocol level 3 with name MQTT",
            nil,
            W.connect(level: 3, payload: W.str("c")),
            .unsupportedProtocolVersion(3),
            .unsupportedProtocolVersion
        ),
        .init(
            "protocol level 4 with name MQIsdp",
            nil,
            W.connect(name: "MQIsdp", level: 4, payload: W.str("c")),
            .unsupportedProtocolVersion(4),
            .unsupportedProtocolVersion
        ),
        .init(
            "reserved connect flag",
            nil,
            W.connect(flags: 0x03, payload: W.str("c")),
            .malformed("reserved connect flag is set")
        ),
        .init(
            "will QoS 3",
            nil,
            W.connect(flags: 0x1E, payload: W.str("c") + W.str("w") + W.str("x")),
            .malformed("will QoS 3")
        ),
        .init(
            "will QoS without will flag",
            nil,
            W.connect(flags: 0x0A, payload: W.str("c")),
            .malformed("will QoS or will retain set without a will")
        ),
        .init(
            "will retain without will flag",
            nil,
            W.connect(flags: 0x22, payload: W.str("c")),
            .malformed("will QoS or will retain set without a will")
        ),
        .init(
            "3.1.1 password without user name",
            nil,
            W.connect(flags: 0x42, payload: W.str("c") + W.str("p")),
            .malformed("password flag set without user name flag")
        ),
        .init(
            "trailing bytes after CONNECT",
            nil,
            W.connect(payload: W.str("c") + [0x00]),
            .malformed("1 unexpected bytes after CONNECT payload")
        ),
        .init(
            "will topic with a wildcard",
            nil,
            W.connect(flags: 0x06, payload: W.str("c") + W.str("w/#") + W.str("x")),
            .invalidTopic("will topic: \(wildcardInName)"),
            .topicNameInvalid
        ),
        // Strings: UTF-8, U+0000, truncation.
        .init("client id: overlong encoding", nil, W.connect(payload: W.rawString([0xC0, 0xAF])), .invalidUTF8),
        .init(
            "client id: surrogate ED A0 80",
            nil,
            W.connect(payload: W.rawString([0x61, 0xED, 0xA0, 0x80])),
            .invalidUTF8
        ),
        .init("client id: truncated sequence", nil, W.connect(payload: W.rawString([0x61, 0xE2, 0x82])), .invalidUTF8),
        .init(
            "client id: beyond U+10FFFF",
            nil,
            W.connect(payload: W.rawString([0xF4, 0x90, 0x80, 0x80])),
            .invalidUTF8
        ),
        .init("client id: lone continuation byte", nil, W.connect(payload: W.rawString([0x80])), .invalidUTF8),
        .init("client id: U+0000", nil, W.connect(payload: W.rawString([0x61, 0x00])), .nullCharacterInString),
        .init(
            "user name: invalid UTF-8",
            nil,
            W.connect(flags: 0x82, payload: W.str("c") + W.rawString([0xFF])),
            .invalidUTF8
        ),
        .init(
            "topic: invalid UTF-8",
            .v3_1_1,
            W.packet(0x30, W.rawString([0x61, 0xFF]) + [0x70]),
            .invalidUTF8
        ),
        .init(
            "topic: surrogate ED A0 80",
            .v5,
            W.packet(0x30, W.rawString([0xED, 0xA0, 0x80]) + [0x00]),
            .invalidUTF8
        ),
        .init(
            "topic: U+0000",
            .v3_1_1,
            W.packet(0x30, W.rawString([0x61, 0x00, 0x62]) + [0x70]),
            .nullCharacterInString
        ),
        .init(
            "topic filter: U+0000",
            .v3_1_1,
            W.packet(0x82, W.u16(1) + W.rawString([0x61, 0x00]) + [0x00]),
            .nullCharacterInString
        ),
        .init(
            "user property: invalid UTF-8",
            .v5,
            publishV5(properties: [0x26] + W.rawString([0xC3]) + W.str("v")),
            .invalidUTF8
        ),
        .init(
            "protocol name truncated",
            nil,
            W.packet(0x10, W.u16(4) + Array("MQ".utf8)),
            .malformed("protocol name is truncated")
        ),
        .init(
            "client id truncated",
            nil,
            W.connect(payload: W.u16(10) + Array("abc".utf8)),
            .malformed("client identifier is truncated")
        ),
        .init(
            "user name missing",
            nil,
            W.connect(flags: 0x82, payload: W.str("c")),
            .malformed("user name is missing")
        ),
        .init(
            "will payload truncated",
            nil,
            W.connect(flags: 0x06, payload: W.str("c") + W.str("w") + W.u16(5) + [0x01]),
            .malformed("will payload is truncated")
        ),
        .init(
            "topic truncated",
            .v3_1_1,
            W.packet(0x30, W.u16(5) + Array("ab".utf8)),
            .malformed("topic name is truncated")
        ),
        .init(
            "topic filter truncated",
            .v3_1_1,
            W.packet(0x82, W.u16(1) + W.u16(9) + Array("a/b".utf8)),
            .malformed("topic filter is truncated")
        ),
        .init(
            "user property value truncated",
            .v5,
            publishV5(properties: [0x26] + W.str("k") + W.u16(3) + [0x76]),
            .malformed("user property value is truncated")
        ),
        // PUBLISH.
        .init(
            "PUBLISH topic with +",
            .v3_1_1,
            W.packet(0x30, W.str("a/+") + [0x70]),
            .invalidTopic(wildcardInName),
            .topicNameInvalid
        ),
        .init(
            "PUBLISH topic with 201 levels",
            .v3_1_1,
            W.packet(0x30, W.str(Array(repeating: "l", count: 201).joined(separator: "/"))),
            .invalidTopic(MQTTTopic.Problem.tooManyLevels.description),
            .topicNameInvalid
        ),
        .init(
            "PUBLISH topic with #",
            .v5,
            publishV5(properties: [], topic: W.str("a/#")),
            .invalidTopic(wildcardInName),
            .topicNameInvalid
        ),
        .init(
            "PUBLISH empty topic (3.1.1)",
            .v3_1_1,
            W.packet(0x30, W.str("") + [0x70]),
            .invalidTopic("topic name is empty"),
            .topicNameInvalid
        ),
        .init(
            "PUBLISH empty topic without topic alias (5.0)",
            .v5,
            publishV5(properties: [], topic: W.str("")),
            .invalidTopic("topic name is empty"),
            .topicNameInvalid
        ),
        .init(
            "PUBLISH empty topic with properties but no topic alias (5.0)",
            .v5,
            publishV5(properties: [0x02] + W.u32(10), topic: W.str("")),
            .invalidTopic("topic name is empty"),
            .topicNameInvalid
        ),
        .init("PUBLISH QoS 3", .v3_1_1, W.packet(0x36, W.str("t") + W.u16(1)), .malformed("PUBLISH with QoS 3")),
        .init("PUBLISH DUP on QoS 0", .v3_1_1, W.packet(0x38, W.str("t")), .malformed("DUP set on a QoS 0 PUBLISH")),
        .init(
            "PUBLISH QoS 1 packet identifier 0",
            .v3_1_1,
            W.packet(0x32, W.str("t") + W.u16(0)),
            .protocolViolation("packet identifier 0"),
            .protocolError
        ),
        .init(
            "PUBLISH QoS 2 packet identifier 0",
            .v5,
            W.packet(0x34, W.str("t") + W.u16(0) + [0x00]),
            .protocolViolation("packet identifier 0"),
            .protocolError
        ),
        .init(
            "PUBLISH QoS 1 without packet identifier",
            .v3_1_1,
            W.packet(0x32, W.str("t")),
            .malformed("packet identifier is missing")
        ),
        // Acknowledgements.
        .init(
            "PUBACK packet identifier 0",
            .v3_1_1,
            [0x40, 0x02, 0x00, 0x00],
            .protocolViolation("packet identifier 0"),
            .protocolError
        ),
        .init(
            "PUBREC packet identifier 0",
            .v5,
            [0x50, 0x02, 0x00, 0x00],
            .protocolViolation("packet identifier 0"),
            .protocolError
        ),
        .init(
            "PUBREL packet identifier 0",
            .v5,
            [0x62, 0x02, 0x00, 0x00],
            .protocolViolation("packet identifier 0"),
            .protocolError
        ),
        .init(
            "PUBCOMP packet identifier 0",
            .v3_1_1,
            [0x70, 0x02, 0x00, 0x00],
            .protocolViolation("packet identifier 0"),
            .protocolError
        ),
        .init("PUBACK with one byte", .v5, [0x40, 0x01, 0x00], .malformed("packet identifier is missing")),
        .init(
            "PUBACK 3.1.1 with a reason code",
            .v3_1_1,
            [0x40, 0x03, 0x00, 0x01, 0x00],
            .unexpectedLength(type: 4, length: 3)
        ),
        .init(
            "PUBACK 5.0 trailing bytes after properties",
            .v5,
            [0x40, 0x05, 0x00, 0x01, 0x00, 0x00, 0xFF],
            .unexpectedLength(type: 4, length: 5)
        ),
        .init(
            "CONNACK reserved flags",
            .v3_1_1,
            [0x20, 0x02, 0x02, 0x00],
            .malformed("reserved connect acknowledge flags set")
        ),
        .init(
            "CONNACK 3.1.1 trailing byte",
            .v3_1_1,
            [0x20, 0x03, 0x00, 0x00, 0x00],
            .malformed("1 unexpected bytes at the end of packet type 2")
        ),
        // SUBSCRIBE / UNSUBSCRIBE.
        .init(
            "SUBSCRIBE packet identifier 0",
            .v3_1_1,
            W.packet(0x82, W.u16(0) + W.str("a") + [0x00]),
            .protocolViolation("packet identifier 0"),
            .protocolError
        ),
        .init(
            "SUBSCRIBE without filters (3.1.1)",
            .v3_1_1,
            [0x82, 0x02, 0x00, 0x01],
            .protocolViolation("SUBSCRIBE without a topic filter"),
            .protocolError
        ),
        .init(
            "SUBSCRIBE without filters (5.0)",
            .v5,
            [0x82, 0x03, 0x00, 0x01, 0x00],
            .protocolViolation("SUBSCRIBE without a topic filter"),
            .protocolError
        ),
        .init(
            "SUBSCRIBE options missing",
            .v3_1_1,
            W.packet(0x82, W.u16(1) + W.str("a")),
            .malformed("subscription options is missing")
        ),
        .init(
            "SUBSCRIBE QoS 3",
            .v3_1_1,
            W.packet(0x82, W.u16(1) + W.str("a") + [0x03]),
            .malformed("subscription QoS 3")
        ),
        .init(
            "SUBSCRIBE reserved option bits (3.1.1 uses only QoS)",
            .v3_1_1,
            W.packet(0x82, W.u16(1) + W.str("a") + [0x04]),
            .malformed("reserved subscription option bits set")
        ),
        .init(
            "SUBSCRIBE reserved option bit 6 (5.0)",
            .v5,
            W.packet(0x82, W.u16(1) + [0x00] + W.str("a") + [0x40]),
            .malformed("reserved subscription option bits set")
        ),
        .init(
            "SUBSCRIBE reserved option bit 7 (5.0)",
            .v5,
            W.packet(0x82, W.u16(1) + [0x00] + W.str("a") + [0x81]),
            .malformed("reserved subscription option bits set")
        ),
        .init(
            "SUBSCRIBE retain handling 3",
            .v5,
            W.packet(0x82, W.u16(1) + [0x00] + W.str("a") + [0x30]),
            .protocolViolation("retain handling 3"),
            .protocolError
        ),
        .init(
            "UNSUBSCRIBE packet identifier 0",
            .v3_1_1,
            W.packet(0xA2, W.u16(0) + W.str("a")),
            .protocolViolation("packet identifier 0"),
            .protocolError
        ),
        .init(
            "UNSUBSCRIBE without filters",
            .v5,
            [0xA2, 0x03, 0x00, 0x01, 0x00],
            .protocolViolation("UNSUBSCRIBE without a topic filter"),
            .protocolError
        ),
        // 5.0 properties.
        .init(
            "duplicate session expiry interval in CONNECT",
            nil,
            connectV5(properties: [0x11] + W.u32(1) + [0x11] + W.u32(2)),
            .duplicateProperty(0x11),
            .protocolError
        ),
        .init(
            "duplicate topic alias in PUBLISH",
            .v5,
            publishV5(properties: [0x23, 0x00, 0x01, 0x23, 0x00, 0x02]),
            .duplicateProperty(0x23),
            .protocolError
        ),
        .init(
            "duplicate reason string in PUBACK",
            .v5,
            W.packet(0x40, W.u16(1) + [0x80] + W.properties([0x1F] + W.str("a") + [0x1F] + W.str("b"))),
            .duplicateProperty(0x1F),
            .protocolError
        ),
        .init(
            "duplicate subscription identifier in SUBSCRIBE",
            .v5,
            W.packet(0x82, W.u16(1) + W.properties([0x0B, 0x01, 0x0B, 0x02]) + W.str("a") + [0x00]),
            .duplicateProperty(0x0B),
            .protocolError
        ),
        .init(
            "topic alias in CONNECT",
            nil,
            connectV5(properties: [0x23, 0x00, 0x01]),
            .propertyNotAllowed(property: 0x23, packetType: 1),
            .protocolError
        ),
        .init(
            "session expiry interval in will properties",
            nil,
            W.connect(
                level: 5,
                flags: 0x06,
                properties: [],
                payload: W.str("c") + W.properties([0x11] + W.u32(1)) + W.str("w") + W.str("x")
            ),
            .propertyNotAllowed(property: 0x11, packetType: 1),
            .protocolError
        ),
        .init(
            "will delay interval in PUBLISH",
            .v5,
            publishV5(properties: [0x18] + W.u32(1)),
            .propertyNotAllowed(property: 0x18, packetType: 3),
            .protocolError
        ),
        .init(
            "reason string in PUBLISH",
            .v5,
            publishV5(properties: [0x1F] + W.str("r")),
            .propertyNotAllowed(property: 0x1F, packetType: 3),
            .protocolError
        ),
        .init(
            "subscription identifier in PUBACK",
            .v5,
            W.packet(0x40, W.u16(1) + [0x00] + W.properties([0x0B, 0x01])),
            .propertyNotAllowed(property: 0x0B, packetType: 4),
            .protocolError
        ),
        .init(
            "assigned client identifier in DISCONNECT",
            .v5,
            W.packet(0xE0, [0x00] + W.properties([0x12] + W.str("x"))),
            .propertyNotAllowed(property: 0x12, packetType: 14),
            .protocolError
        ),
        .init("unknown property 0x04", .v5, publishV5(properties: [0x04, 0x00]), .unknownProperty(0x04)),
        .init("unknown property 0x2B", nil, connectV5(properties: [0x2B, 0x00]), .unknownProperty(0x2B)),
        .init("unknown property 0x7F", .v5, publishV5(properties: [0x7F]), .unknownProperty(0x7F)),
        .init(
            "receive maximum 0",
            nil,
            connectV5(properties: [0x21, 0x00, 0x00]),
            .protocolViolation("receive maximum must not be 0"),
            .protocolError
        ),
        .init(
            "maximum packet size 0",
            nil,
            connectV5(properties: [0x27] + W.u32(0)),
            .protocolViolation("maximum packet size must not be 0"),
            .protocolError
        ),
        .init(
            "request problem information 2",
            nil,
            connectV5(properties: [0x17, 0x02]),
            .protocolViolation("request problem information must be 0 or 1"),
            .protocolError
        ),
        .init(
            "payload format indicator 2",
            .v5,
            publishV5(properties: [0x01, 0x02]),
            .protocolViolation("payload format indicator must be 0 or 1"),
            .protocolError
        ),
        .init(
            "subscription identifier 0",
            .v5,
            W.packet(0x82, W.u16(1) + W.properties([0x0B, 0x00]) + W.str("a") + [0x00]),
            .protocolViolation("subscription identifier must not be 0"),
            .protocolError
        ),
        .init(
            "response topic with a wildcard",
            .v5,
            publishV5(properties: [0x08] + W.str("reply/+")),
            .invalidTopic("response topic: \(wildcardInName)"),
            .topicNameInvalid
        ),
        .init(
            "empty will topic",
            nil,
            W.connect(flags: 0x06, payload: W.str("c") + W.str("") + W.str("x")),
            .invalidTopic("will topic: \(MQTTTopic.Problem.empty)"),
            .topicNameInvalid
        ),
        .init(
            "maximum QoS 2 in CONNACK",
            .v5,
            W.packet(0x20, [0x00, 0x00] + W.properties([0x24, 0x02])),
            .protocolViolation("maximum QoS must be 0 or 1"),
            .protocolError
        ),
        .init(
            "property length beyond the packet",
            .v5,
            W.packet(0x30, W.str("t") + [0x05, 0x23]),
            .malformed("properties is truncated")
        ),
        .init(
            "property value truncated",
            .v5,
            publishV5(properties: [0x02, 0x00, 0x00]),
            .malformed("message expiry interval is missing")
        ),
        .init(
            "5-byte subscription identifier",
            .v5,
            publishV5(properties: [0x0B, 0x80, 0x80, 0x80, 0x80, 0x01]),
            .malformedRemainingLength
        ),
        // Fixed-size packets.
        .init("PINGREQ with a body", .v3_1_1, [0xC0, 0x01, 0x00], .unexpectedLength(type: 12, length: 1)),
        .init("PINGRESP with a body", .v5, [0xD0, 0x02, 0x00, 0x00], .unexpectedLength(type: 13, length: 2)),
        .init("3.1.1 DISCONNECT with a body", .v3_1_1, [0xE0, 0x01, 0x00], .unexpectedLength(type: 14, length: 1)),
        .init(
            "5.0 DISCONNECT trailing bytes after properties",
            .v5,
            [0xE0, 0x03, 0x00, 0x00, 0x00],
            .malformed("1 unexpected bytes at the end of packet type 14")
        ),
    ]

@Suite("MQTT malformed input")
struct MalformedInputTests {
    @Test("the decoder throws the specific error", arguments: malformedCases)
    func rejects(_ testCase: MalformedCase) {
        var decoder = MQTTPacketDecoder(
            maximumPacketSize: testCase.maximumPacketSize,
            protocolVersion: testCase.version
        )
        var buffer = ByteBuffer(testCase.bytes)
        let error = #expect(throws: MQTTCodecError.self) {
            let packet = try decoder.decode(buffer: &buffer)
            Issue.record("decoded \(String(describing: packet)) instead of throwing")
        }
        #expect(error == testCase.expected)
        #expect(error?.reasonCode == testCase.reasonCode)
    }

    /// Fed one byte at a time, the decoder must report the error as soon as it can, never a different one,
    /// and never wait for bytes that the packet does not declare.
    @Test("the error is the same when the bytes arrive one at a time", arguments: malformedCases)
    func rejectsByteByByte(_ testCase: MalformedCase) {
        var decoder = MQTTPacketDecoder(
            maximumPacketSize: testCase.maximumPacketSize,
            protocolVersion: testCase.version
        )
        var buffer = ByteBuffer()
        var thrown: (any Error)?
        for byte in testCase.bytes {
            buffer.writeInteger(byte)
            do {
                if let packet = try decoder.decode(buffer: &buffer) {
                    Issue.record("decoded \(packet) from a prefix")
                    return
                }
            } catch {
                thrown = error
                break
            }
        }
        #expect(thrown as? MQTTCodecError == testCase.expected)
    }

    @Test("an unsupported protocol level is reported with the level")
    func unsupportedProtocolLevel() {
        var decoder = MQTTPacketDecoder()
        var buffer = ByteBuffer(W.connect(level: 7, payload: W.str("c")))
        let error = #expect(throws: MQTTCodecError.self) { _ = try decoder.decode(buffer: &buffer) }
        #expect(error?.unsupportedProtocolLevel == 7)
        #expect(error?.reasonCode == .unsupportedProtocolVersion)
        #expect(MQTTCodecError.malformedRemainingLength.unsupportedProtocolLevel == nil)
    }

    @Test("a second CONNECT after a valid one is refused")
    func secondConnectInAStream() throws {
        var decoder = MQTTPacketDecoder()
        var buffer = ByteBuffer(W.connect(level: 4) + W.connect(level: 4))
        #expect(try decoder.decode(buffer: &buffer) == .connect(.init(clientID: "c")))
        #expect(throws: MQTTCodecError.protocolViolation("a second CONNECT on the same connection")) {
            _ = try decoder.decode(buffer: &buffer)
        }
    }

    /// The near misses of the malformed table: these are valid and must decode.
    @Test("near misses of the malformed cases are accepted")
    func nearMisses() throws {
        let cases: [(String, MQTTProtocolVersion?, [UInt8])] = [
            ("5.0 password without user name", nil, W.connect(level: 5, flags: 0x42, payload: W.str("c") + W.str("p"))),
            (
                "4-byte remaining length",
                .v3_1_1,
                W.packet(0x30, W.str("t") + [UInt8](repeating: 0x70, count: 2_097_152 - 3))
            ),
            ("MQTT 3.1", nil, W.connect(name: "MQIsdp", level: 3, payload: W.str("c"))),
            ("empty client id", nil, W.connect(payload: W.str(""))),
            ("empty topic with alias (5.0)", .v5, publishV5(properties: [0x23, 0x00, 0x01], topic: W.str(""))),
            (
                "several user properties with one name", .v5,
                publishV5(properties: [0x26] + W.str("k") + W.str("1") + [0x26] + W.str("k") + W.str("2"))
            ),
            ("several subscription identifiers in PUBLISH", .v5, publishV5(properties: [0x0B, 0x01, 0x0B, 0x01])),
            ("3-byte 5.0 PUBACK without property length", .v5, [0x40, 0x03, 0x00, 0x01, 0x97]),
            ("5.0 DISCONNECT with reason code only", .v5, [0xE0, 0x01, 0x04]),
            ("5.0 SUBSCRIBE with every option", .v5, W.packet(0x82, W.u16(1) + [0x00] + W.str("a") + [0x2E])),
            ("non-ASCII topic", .v3_1_1, W.packet(0x30, W.str("température/°C") + [0x70])),
            ("4-byte UTF-8 client id", nil, W.connect(payload: W.str("😀"))),
        ]
        for (name, version, bytes) in cases {
            var decoder = MQTTPacketDecoder(protocolVersion: version)
            var buffer = ByteBuffer(bytes)
            do {
                #expect(try decoder.decode(buffer: &buffer) != nil, "\(name)")
            } catch {
                Issue.record("\(name): \(error)")
            }
            #expect(buffer.readableBytes == 0, "\(name)")
        }
    }
}
