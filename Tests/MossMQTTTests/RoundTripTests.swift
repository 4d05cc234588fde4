import MossMQTT
import NIOCore
import Testing

/// One packet to encode and decode again with the given protocol version.
struct RoundTripCase: Sendable, CustomTestStringConvertible {
    var name: String
    var version: MQTTProtocolVersion
    var packet: MQTTPacket

    var testDescription: String { "\(version) \(name)" }

    init(_ name: String, _ version: MQTTProtocolVersion, _ packet: MQTTPacket) {
        self.name = name
        self.version = version
        self.packet = packet
    }
}

private func bytes(_ string: String) -> ByteBuffer { ByteBuffer(string: string) }

private let willProperties: MQTTProperties = [
    .willDelayInterval(30),
    .payloadFormatIndicator(1),
    .messageExpiryInterval(3600),
    .contentType("text/plain"),
    .responseTopic("reply/to/me"),
    .correlationData(ByteBuffer(bytes: [0x00, 0xFF, 0x10])),
    .userProperty("k", "v"),
    .userProperty("k", "v2"),
]

private let connectProperties: MQTTProperties = [
    .sessionExpiryInterval(0xFFFF_FFFF),
    .receiveMaximum(20),
    .maximumPacketSize(131_072),
    .topicAliasMaximum(10),
    .requestResponseInformation(1),
    .requestProblemInformation(0),
    .userProperty("region", "eu-west-1"),
    .userProperty("a", ""),
    .userProperty("region", "us-east-1"),
    .authenticationMethod("SCRAM-SHA-256"),
    .authenticationData(ByteBuffer(bytes: [1, 2, 3, 4])),
]

private let connackProperties: MQTTProperties = [
    .sessionExpiryInterval(300),
    .receiveMaximum(100),
    .maximumQoS(1),
    .retainAvailable(0),
    .maximumPacketSize(262_144),
    .assignedClientIdentifier("moss-assigned-1"),
    .topicAliasMaximum(16),
    .reasonString("welcome"),
    .userProperty("x", "y"),
    .wildcardSubscriptionAvailable(1),
    .subscriptionIdentifierAvailable(1),
    .sharedSubscriptionAvailable(0),
    .serverKeepAlive(120),
    .responseInformation("resp/"),
    .serverReference("other.example:1883"),
    .authenticationMethod("m"),
    .authenticationData(ByteBuffer(bytes: [9])),
]

private let publishProperties: MQTTProperties = [
    .payloadFormatIndicator(1),
    .messageExpiryInterval(60),
    .topicAlias(3),
    .responseTopic("r/s"),
    .correlationData(ByteBuffer(string: "corr")),
    .userProperty("first", "1"),
    .subscriptionIdentifier(1),
    .userProperty("second", "2"),
    .subscriptionIdentifier(268_435_455),
    .userProperty("first", "3"),
    .subscriptionIdentifier(16_384),
    .contentType("application/json"),
]

private let ackProperties: MQTTProperties = [.reasonString("no"), .userProperty("why", "because")]

/// Every packet type, 3.1.1 and 5.0, with and without the optional parts.
let roundTripCases: [RoundTripCase] = {
    var cases: [RoundTripCase] = []
    for version in [MQTTProtocolVersion.v3_1_1, .v5] {
        let v5 = version == .v5
        let props: (MQTTProperties) -> MQTTProperties = { v5 ? $0 : [] }
        cases += [
            .init("CONNECT minimal", version, .connect(.init(protocolVersion: version, clientID: "c"))),
            .init(
                "CONNECT empty client id, persistent session",
                version,
                .connect(.init(protocolVersion: version, clientID: "", cleanStart: false, keepAlive: 0))
            ),
            .init(
                "CONNECT username only",
                version,
                .connect(.init(protocolVersion: version, clientID: "sensor-1", username: "alice"))
            ),
            .init(
                "CONNECT username and password",
                version,
                .connect(
                    .init(
                        protocolVersion: version,
                        clientID: "sensor-1",
                        keepAlive: 65_535,
                        username: "alice",
                        password: ByteBuffer(bytes: [0x00, 0xFF, 0x80, 0x7F])
                    )
                )
            ),
            .init(
                "CONNECT will QoS 0",
                version,
                .connect(
                    .init(
                        protocolVersion: version,
                        clientID: "w0",
                        will: .init(topic: "status/w0", payload: bytes("offline"))
                    )
                )
            ),
            .init(
                "CONNECT will QoS 1 retained, empty will payload",
                version,
                .connect(
                    .init(
                        protocolVersion: version,
                        clientID: "w1",
                        will: .init(topic: "status/w1", payload: ByteBuffer(), qos: .atLeastOnce, retain: true)
                    )
                )
            ),
            .init(
                "CONNECT will QoS 2 with all will properties, user, password and all CONNECT properties",
                version,
                .connect(
                    .init(
                        protocolVersion: version,
                        clientID: "everything",
                        cleanStart: false,
                        keepAlive: 10,
                        will: .init(
                            topic: "status/everything",
                            payload: bytes("gone"),
                            qos: .exactlyOnce,
                            retain: false,
                            properties: props(willProperties)
                        ),
                        username: "u",
                        password: bytes("p"),
                        properties: props(connectProperties)
                    )
                )
            ),
            .init("CONNACK accepted", version, .connack(.init())),
            .init("CONNACK session present", version, .connack(.init(sessionPresent: true))),
            .init(
                "CONNACK refused",
                version,
                .connack(.init(reasonCode: v5 ? .notAuthorized : .v3NotAuthorized))
            ),
            .init("PUBLISH QoS 0", version, .publish(.init(topic: "a/b", payload: bytes("hello")))),
            .init(
                "PUBLISH QoS 0 empty payload retained",
                version,
                .publish(.init(topic: "a", payload: ByteBuffer(), retain: true))
            ),
            .init(
                "PUBLISH QoS 1",
                version,
                .publish(.init(topic: "sensors/temp", payload: bytes("21.5"), qos: .atLeastOnce, packetID: 1))
            ),
            .init(
                "PUBLISH QoS 1 dup retain",
                version,
                .publish(
                    .init(
                        topic: "x/y/z",
                        payload: bytes("1"),
                        qos: .atLeastOnce,
                        retain: true,
                        dup: true,
                        packetID: 65_535
                    )
                )
            ),
            .init(
                "PUBLISH QoS 2 dup",
                version,
                .publish(.init(topic: "q2", payload: bytes("two"), qos: .exactlyOnce, dup: true, packetID: 42))
            ),
            .init(
                "PUBLISH unicode topic, empty levels, $ topic",
                version,
                .publish(.init(topic: "$moss/ünï/😀//", payload: bytes("x"), qos: .atLeastOnce, packetID: 7))
            ),
            .init(
                "PUBLISH topic with a byte order mark, which must not be stripped",
                version,
                .publish(.init(topic: "\u{FEFF}a/\u{FEFF}", payload: bytes("x")))
            ),
            .init(
                "PUBLISH large payload (3-byte remaining length)",
                version,
                .publish(
                    .init(
                        topic: "big",
                        payload: ByteBuffer(repeating: 0xAB, count: 20_000),
                        qos: .atLeastOnce,
                        packetID: 9
                    )
                )
            ),
            .init("PUBACK", version, .puback(.init(packetID: 1))),
            .init("PUBREC", version, .pubrec(.init(packetID: 2))),
            .init("PUBREL", version, .pubrel(.init(packetID: 3))),
            .init("PUBCOMP", version, .pubcomp(.init(packetID: 65_535))),
            .init(
                "SUBSCRIBE one filter",
                version,
                .subscribe(.init(packetID: 10, subscriptions: [.init(filter: "a/+/c", qos: .atLeastOnce)]))
            ),
            .init(
                "SUBSCRIBE several filters",
                version,
                .subscribe(
                    .init(
                        packetID: 11,
                        subscriptions: [
                            .init(filter: "#"), .init(filter: "$SYS/#", qos: .exactlyOnce),
                            .init(filter: "$share/g/t/+", qos: .atLeastOnce),
                        ]
                    )
                )
            ),
            .init(
                "SUBACK",
                version,
                .suback(.init(packetID: 11, reasonCodes: [.success, .grantedQoS2, .grantedQoS1, .unspecifiedError]))
            ),
            .init("UNSUBSCRIBE", version, .unsubscribe(.init(packetID: 12, filters: ["a/+/c", "#", "$share/g/t"]))),
            .init("PINGREQ", version, .pingreq),
            .init("PINGRESP", version, .pingresp),
            .init("DISCONNECT", version, .disconnect(.init())),
        ]
        if !v5 {
            cases += [
                .init("UNSUBACK", version, .unsuback(.init(packetID: 12))),
                .init(
                    "CONNECT MQTT 3.1 (MQIsdp)",
                    version,
                    .connect(.init(protocolVersion: .v3_1, clientID: "old", username: "u", password: bytes("p")))
                ),
            ]
        }
    }
    // 5.0 only: reason codes, properties, subscription options, AUTH.
    let v5 = MQTTProtocolVersion.v5
    cases += [
        .init("CONNACK all properties", v5, .connack(.init(sessionPresent: true, properties: connackProperties))),
        .init(
            "CONNACK unsupported protocol version with reason string",
            v5,
            .connack(.init(reasonCode: .unsupportedProtocolVersion, properties: [.reasonString("5.0 only")]))
        ),
        .init(
            "PUBLISH QoS 1 all properties, user properties and subscription identifiers in order",
            v5,
            .publish(
                .init(
                    topic: "a/b",
                    payload: bytes("{}"),
                    qos: .atLeastOnce,
                    retain: true,
                    packetID: 5,
                    properties: publishProperties
                )
            )
        ),
        .init(
            "PUBLISH QoS 2 empty topic with topic alias",
            v5,
            .publish(
                .init(topic: "", payload: bytes("p"), qos: .exactlyOnce, packetID: 6, properties: [.topicAlias(3)])
            )
        ),
        .init(
            "PUBLISH QoS 0 with subscription identifiers only",
            v5,
            .publish(
                .init(
                    topic: "t",
                    payload: bytes("p"),
                    properties: [
                        .subscriptionIdentifier(2), .subscriptionIdentifier(127), .subscriptionIdentifier(128),
                    ]
                )
            )
        ),
        .init("PUBACK no matching subscribers", v5, .puback(.init(packetID: 1, reasonCode: .noMatchingSubscribers))),
        .init(
            "PUBACK not authorized with properties",
            v5,
            .puback(.init(packetID: 1, reasonCode: .notAuthorized, properties: ackProperties))
        ),
        .init("PUBACK success with properties", v5, .puback(.init(packetID: 1, properties: [.userProperty("k", "v")]))),
        .init("PUBREC quota exceeded", v5, .pubrec(.init(packetID: 2, reasonCode: .quotaExceeded))),
        .init(
            "PUBREC with properties",
            v5,
            .pubrec(.init(packetID: 2, reasonCode: .unspecifiedError, properties: ackProperties))
        ),
        .init(
            "PUBREL packet identifier not found",
            v5,
            .pubrel(.init(packetID: 3, reasonCode: .packetIdentifierNotFound))
        ),
        .init(
            "PUBREL with properties",
            v5,
            .pubrel(.init(packetID: 3, reasonCode: .packetIdentifierNotFound, properties: ackProperties))
        ),
        .init(
            "PUBCOMP packet identifier not found",
            v5,
            .pubcomp(.init(packetID: 4, reasonCode: .packetIdentifierNotFound))
        ),
        .init("PUBCOMP with properties", v5, .pubcomp(.init(packetID: 4, properties: ackProperties))),
        .init(
            "SUBSCRIBE options and properties",
            v5,
            .subscribe(
                .init(
                    packetID: 20,
                    subscriptions: [
                        .init(filter: "a/#", qos: .atMostOnce, noLocal: true),
                        .init(filter: "b/+", qos: .atLeastOnce, retainAsPublished: true),
                        .init(filter: "c", qos: .exactlyOnce, retainHandling: .sendOnNewSubscription),
                        .init(
                            filter: "d",
                            qos: .exactlyOnce,
                            noLocal: true,
                            retainAsPublished: true,
                            retainHandling: .doNotSend
                        ),
                    ],
                    properties: [
                        .subscriptionIdentifier(268_435_455), .userProperty("s", "1"), .userProperty("s", "2"),
                    ]
                )
            )
        ),
        .init(
            "SUBACK failure codes with properties",
            v5,
            .suback(
                .init(
                    packetID: 20,
                    reasonCodes: [.grantedQoS1, .notAuthorized, .topicFilterInvalid, .sharedSubscriptionsNotSupported],
                    properties: ackProperties
                )
            )
        ),
        .init(
            "UNSUBSCRIBE with properties",
            v5,
            .unsubscribe(.init(packetID: 21, filters: ["a"], properties: [.userProperty("u", "v")]))
        ),
        .init(
            "UNSUBACK reason codes",
            v5,
            .unsuback(.init(packetID: 21, reasonCodes: [.success, .noSubscriptionExisted, .notAuthorized]))
        ),
        .init(
            "UNSUBACK reason codes with properties",
            v5,
            .unsuback(.init(packetID: 22, reasonCodes: [.success], properties: ackProperties))
        ),
        .init("DISCONNECT with will message", v5, .disconnect(.init(reasonCode: .disconnectWithWillMessage))),
        .init(
            "DISCONNECT with reason and properties",
            v5,
            .disconnect(
                .init(
                    reasonCode: .receiveMaximumExceeded,
                    properties: [
                        .sessionExpiryInterval(0), .reasonString("too many"), .serverReference("b:1883"),
                        .userProperty("a", "b"),
                    ]
                )
            )
        ),
        .init("DISCONNECT success with properties", v5, .disconnect(.init(properties: [.sessionExpiryInterval(10)]))),
        .init("AUTH success", v5, .auth(.init())),
        .init(
            "AUTH continue",
            v5,
            .auth(
                .init(
                    reasonCode: .continueAuthentication,
                    properties: [
                        .authenticationMethod("SCRAM-SHA-1"), .authenticationData(bytes("challenge")),
                        .reasonString("go on"), .userProperty("k", "v"),
                    ]
                )
            )
        ),
        .init(
            "AUTH re-authenticate",
            v5,
            .auth(.init(reasonCode: .reAuthenticate, properties: [.authenticationMethod("m")]))
        ),
    ]
    return cases
}()

@Suite("MQTT packet round trips")
struct RoundTripTests {
    @Test("encode then decode is the identity", arguments: roundTripCases)
    func roundTrip(_ testCase: RoundTripCase) throws {
        var buffer = ByteBuffer()
        testCase.packet.encode(into: &buffer, version: testCase.version)
        let encodedSize = buffer.readableBytes
        // A CONNECT is the first packet of a connection; everything else needs the version up front.
        let isConnect = testCase.packet.packetType == 1
        var decoder = MQTTPacketDecoder(protocolVersion: isConnect ? nil : testCase.version)
        let decoded = try decoder.decode(buffer: &buffer)
        #expect(decoded == testCase.packet)
        #expect(buffer.readableBytes == 0, "the decoder left \(buffer.readableBytes) bytes")
        if case .connect(let connect) = testCase.packet {
            #expect(decoder.protocolVersion == connect.protocolVersion)
        }
        if case .publish(let publish) = testCase.packet {
            #expect(publish.encodedSize(version: testCase.version) == encodedSize)
        }
    }

    @Test("the table covers every packet type in both versions")
    func tableCoversEveryPacketType() {
        for version in [MQTTProtocolVersion.v3_1_1, .v5] {
            let types = Set(roundTripCases.filter { $0.version == version }.map(\.packet.packetType))
            let expected: Set<UInt8> = version == .v5 ? Set(1...15) : Set(1...14)
            #expect(types == expected, "\(version)")
        }
    }

    @Test("3.1.1 encoding leaves out 5.0 reason codes and properties")
    func v311DropsV5Fields() throws {
        let cases: [(MQTTPacket, MQTTPacket)] = [
            (
                .puback(.init(packetID: 7, reasonCode: .notAuthorized, properties: [.reasonString("x")])),
                .puback(.init(packetID: 7))
            ),
            (
                .publish(.init(topic: "t", payload: ByteBuffer(string: "p"), properties: [.messageExpiryInterval(5)])),
                .publish(.init(topic: "t", payload: ByteBuffer(string: "p")))
            ),
            (.unsuback(.init(packetID: 3, reasonCodes: [.success])), .unsuback(.init(packetID: 3))),
            (.disconnect(.init(reasonCode: .serverShuttingDown)), .disconnect(.init())),
        ]
        for (packet, expected) in cases {
            let encoded = packet.encoded(.v3_1_1)
            #expect(encoded == expected.encoded(.v3_1_1))
            if case .publish(let publish) = packet {
                #expect(publish.encodedSize(version: .v3_1_1) == encoded.count)
            }
            var buffer = ByteBuffer(encoded)
            var decoder = MQTTPacketDecoder(protocolVersion: .v3_1_1)
            #expect(try decoder.decode(buffer: &buffer) == expected)
            #expect(buffer.readableBytes == 0)
        }
    }
}

@Suite("MQTT 5.0 properties")
struct PropertiesTests {
    @Test("user properties and subscription identifiers keep their wire order")
    func orderIsPreserved() throws {
        let packet = MQTTPacket.publish(
            .init(topic: "t", payload: ByteBuffer(), qos: .atLeastOnce, packetID: 1, properties: publishProperties)
        )
        var buffer = ByteBuffer(packet.encoded(.v5))
        var decoder = MQTTPacketDecoder(protocolVersion: .v5)
        guard case .publish(let publish) = try decoder.decode(buffer: &buffer) else {
            Issue.record("not a PUBLISH")
            return
        }
        #expect(publish.properties.all == publishProperties.all)
        #expect(publish.properties.userProperties.map(\.0) == ["first", "second", "first"])
        #expect(publish.properties.userProperties.map(\.1) == ["1", "2", "3"])
        #expect(publish.properties.subscriptionIdentifiers == [1, 268_435_455, 16_384])
        #expect(publish.properties.topicAlias == 3)
        #expect(publish.properties.messageExpiryInterval == 60)
        #expect(publish.properties.contentType == "application/json")
        #expect(publish.properties.reasonString == nil)
    }

    @Test("a property block round-trips through the public ByteBuffer API")
    func propertyBlock() throws {
        for (properties, context) in [
            (connectProperties, MQTTPropertyContext.connect), (connackProperties, .connack),
            (publishProperties, .publish),
            (willProperties, .will), (ackProperties, .puback), (MQTTProperties(), .disconnect),
        ] {
            var buffer = ByteBuffer()
            properties.encode(into: &buffer)
            #expect(
                buffer.readableBytes == mqttVariableByteIntegerSize(properties.encodedLength) + properties.encodedLength
            )
            buffer.writeInteger(UInt8(0xEE))  // what follows the block stays unread
            let decoded = try MQTTProperties.decode(from: &buffer, context: context)
            #expect(decoded == properties)
            #expect(Array(buffer.readableBytesView) == [0xEE])
        }
        var wrongPacket = ByteBuffer()
        MQTTProperties([.topicAlias(1)]).encode(into: &wrongPacket)
        #expect(throws: MQTTCodecError.propertyNotAllowed(property: 0x23, packetType: 14)) {
            _ = try MQTTProperties.decode(from: &wrongPacket, context: .disconnect)
        }
    }

    @Test("set replaces and remove deletes every property with the identifier")
    func editing() {
        var properties: MQTTProperties = [.userProperty("a", "1"), .topicAlias(1), .userProperty("b", "2")]
        properties.set(.topicAlias(2))
        #expect(properties.topicAlias == 2)
        #expect(properties.all.count == 3)
        properties.remove(identifier: 0x26)
        #expect(properties.all == [.topicAlias(2)])
        properties.remove(identifier: 0x23)
        #expect(properties.isEmpty)
    }
}

/// Encodings checked against bytes written by hand from the specifications.
struct WireVector: Sendable, CustomTestStringConvertible {
    var name: String
    var version: MQTTProtocolVersion
    var packet: MQTTPacket
    var bytes: [UInt8]

    var testDescription: String { "\(version) \(name)" }
}

let wireVectors: [WireVector] = [
    // MQTT 3.1.1 §3.1.2.10 example variable header (flags 0xCE, keep alive 10) with a payload.
    WireVector(
        name: "CONNECT (3.1.1 spec example header: user, password, will QoS 1, clean session)",
        version: .v3_1_1,
        packet: .connect(
            .init(
                clientID: "id",
                keepAlive: 10,
                will: .init(topic: "w", payload: ByteBuffer(string: "x"), qos: .atLeastOnce),
                username: "u",
                password: ByteBuffer(string: "p")
            )
        ),
        bytes: [
            0x10, 0x1A,
            0x00, 0x04, 0x4D, 0x51, 0x54, 0x54,  // "MQTT"
            0x04,  // level 4
            0xCE,  // user name, password, will QoS 1, will flag, clean session
            0x00, 0x0A,  // keep alive 10
            0x00, 0x02, 0x69, 0x64,  // client id "id"
            0x00, 0x01, 0x77,  // will topic "w"
            0x00, 0x01, 0x78,  // will payload "x"
            0x00, 0x01, 0x75,  // user name "u"
            0x00, 0x01, 0x70,  // password "p"
        ]
    ),
    WireVector(
        name: "CONNECT minimal",
        version: .v3_1_1,
        packet: .connect(.init(clientID: "test")),
        bytes: [
            0x10, 0x10, 0x00, 0x04, 0x4D, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3C, 0x00, 0x04, 0x74, 0x65, 0x73, 0x74,
        ]
    ),
    WireVector(
        name: "CONNECT 5.0 with session expiry",
        version: .v5,
        packet: .connect(.init(protocolVersion: .v5, clientID: "c", properties: [.sessionExpiryInterval(60)])),
        bytes: [
            0x10, 0x13, 0x00, 0x04, 0x4D, 0x51, 0x54, 0x54, 0x05, 0x02, 0x00, 0x3C,
            0x05, 0x11, 0x00, 0x00, 0x00, 0x3C,  // properties: session expiry 60
            0x00, 0x01, 0x63,
        ]
    ),
    WireVector(
        name: "CONNACK session present",
        version: .v3_1_1,
        packet: .connack(.init(sessionPresent: true)),
        bytes: [0x20, 0x02, 0x01, 0x00]
    ),
    WireVector(
        name: "CONNACK without properties",
        version: .v5,
        packet: .connack(.init()),
        bytes: [0x20, 0x03, 0x00, 0x00, 0x00]
    ),
    WireVector(
        name: "PUBLISH QoS 1",
        version: .v3_1_1,
        packet: .publish(.init(topic: "a/b", payload: ByteBuffer(string: "hi"), qos: .atLeastOnce, packetID: 10)),
        bytes: [0x32, 0x09, 0x00, 0x03, 0x61, 0x2F, 0x62, 0x00, 0x0A, 0x68, 0x69]
    ),
    WireVector(
        name: "PUBLISH QoS 2 dup retain",
        version: .v3_1_1,
        packet: .publish(
            .init(topic: "t", payload: ByteBuffer(), qos: .exactlyOnce, retain: true, dup: true, packetID: 1)
        ),
        bytes: [0x3D, 0x05, 0x00, 0x01, 0x74, 0x00, 0x01]
    ),
    WireVector(
        name: "PUBLISH QoS 0 with properties",
        version: .v5,
        packet: .publish(
            .init(topic: "t", payload: ByteBuffer(string: "p"), properties: [.topicAlias(1), .userProperty("k", "v")])
        ),
        bytes: [0x30, 0x0F, 0x00, 0x01, 0x74, 0x0A, 0x23, 0x00, 0x01, 0x26, 0x00, 0x01, 0x6B, 0x00, 0x01, 0x76, 0x70]
    ),
    WireVector(
        name: "PUBLISH remaining length 128 takes two bytes",
        version: .v3_1_1,
        packet: .publish(.init(topic: "t", payload: ByteBuffer(repeating: 0x61, count: 125))),
        bytes: [0x30, 0x80, 0x01, 0x00, 0x01, 0x74] + [UInt8](repeating: 0x61, count: 125)
    ),
    WireVector(name: "PUBACK", version: .v3_1_1, packet: .puback(.init(packetID: 1)), bytes: [0x40, 0x02, 0x00, 0x01]),
    WireVector(
        name: "PUBACK success without properties is 2 bytes",
        version: .v5,
        packet: .puback(.init(packetID: 1)),
        bytes: [0x40, 0x02, 0x00, 0x01]
    ),
    WireVector(
        name: "PUBACK reason code without properties",
        version: .v5,
        packet: .puback(.init(packetID: 1, reasonCode: .noMatchingSubscribers)),
        bytes: [0x40, 0x03, 0x00, 0x01, 0x10]
    ),
    WireVector(
        name: "PUBREL has flags 0x2",
        version: .v3_1_1,
        packet: .pubrel(.init(packetID: 0x1234)),
        bytes: [0x62, 0x02, 0x12, 0x34]
    ),
    WireVector(
        name: "SUBSCRIBE",
        version: .v3_1_1,
        packet: .subscribe(.init(packetID: 1, subscriptions: [.init(filter: "a/b", qos: .atLeastOnce)])),
        bytes: [0x82, 0x08, 0x00, 0x01, 0x00, 0x03, 0x61, 0x2F, 0x62, 0x01]
    ),
    WireVector(
        name: "SUBSCRIBE options byte",
        version: .v5,
        packet: .subscribe(
            .init(
                packetID: 1,
                subscriptions: [
                    .init(
                        filter: "a",
                        qos: .atLeastOnce,
                        noLocal: true,
                        retainAsPublished: true,
                        retainHandling: .doNotSend
                    )
                ]
            )
        ),
        bytes: [0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 0x61, 0x2D]
    ),
    WireVector(
        name: "SUBACK",
        version: .v3_1_1,
        packet: .suback(.init(packetID: 1, reasonCodes: [.grantedQoS1, .v3SubscribeFailure])),
        bytes: [0x90, 0x04, 0x00, 0x01, 0x01, 0x80]
    ),
    WireVector(
        name: "UNSUBSCRIBE",
        version: .v3_1_1,
        packet: .unsubscribe(.init(packetID: 2, filters: ["a"])),
        bytes: [0xA2, 0x05, 0x00, 0x02, 0x00, 0x01, 0x61]
    ),
    WireVector(
        name: "UNSUBACK",
        version: .v3_1_1,
        packet: .unsuback(.init(packetID: 5)),
        bytes: [0xB0, 0x02, 0x00, 0x05]
    ),
    WireVector(
        name: "UNSUBACK reason codes",
        version: .v5,
        packet: .unsuback(.init(packetID: 5, reasonCodes: [.success, .noSubscriptionExisted])),
        bytes: [0xB0, 0x05, 0x00, 0x05, 0x00, 0x00, 0x11]
    ),
    WireVector(name: "PINGREQ", version: .v3_1_1, packet: .pingreq, bytes: [0xC0, 0x00]),
    WireVector(name: "PINGRESP", version: .v5, packet: .pingresp, bytes: [0xD0, 0x00]),
    WireVector(name: "DISCONNECT", version: .v3_1_1, packet: .disconnect(.init()), bytes: [0xE0, 0x00]),
    WireVector(name: "DISCONNECT normal is empty", version: .v5, packet: .disconnect(.init()), bytes: [0xE0, 0x00]),
    WireVector(
        name: "DISCONNECT reason code",
        version: .v5,
        packet: .disconnect(.init(reasonCode: .sessionTakenOver)),
        bytes: [0xE0, 0x01, 0x8E]
    ),
    WireVector(
        name: "AUTH continue with method",
        version: .v5,
        packet: .auth(.init(reasonCode: .continueAuthentication, properties: [.authenticationMethod("m")])),
        bytes: [0xF0, 0x06, 0x18, 0x04, 0x15, 0x00, 0x01, 0x6D]
    ),
]

@Suite("MQTT wire vectors")
struct WireVectorTests {
    @Test("encoding matches the hand-written bytes", arguments: wireVectors)
    func encodes(_ vector: WireVector) {
        #expect(vector.packet.encoded(vector.version) == vector.bytes)
    }

    @Test("the hand-written bytes decode to the packet", arguments: wireVectors)
    func decodes(_ vector: WireVector) throws {
        var decoder = MQTTPacketDecoder(protocolVersion: vector.packet.packetType == 1 ? nil : vector.version)
        let (packets, leftover) = try decodeAll(vector.bytes, decoder: &decoder)
        #expect(packets == [vector.packet])
        #expect(leftover == 0)
    }

    /// String's `==` treats canonically equivalent spellings as equal, so compare the UTF-8 bytes.
    @Test("strings are decoded byte for byte, never normalised")
    func stringsKeepTheirBytes() throws {
        for spelling in ["e\u{301}", "\u{E9}", "\u{FEFF}x", "Å/\u{212B}"] {
            let bytes = Wire.packet(0x30, Wire.str(spelling) + [0x70])
            var decoder = MQTTPacketDecoder(protocolVersion: .v3_1_1)
            let (packets, _) = try decodeAll(bytes, decoder: &decoder)
            guard case .publish(let publish) = packets.first else {
                Issue.record("no PUBLISH for \(Array(spelling.utf8))")
                continue
            }
            #expect(Array(publish.topic.utf8) == Array(spelling.utf8))
            #expect(MQTTPacket.publish(publish).encoded(.v3_1_1) == bytes)
        }
    }

    @Test("the helper's variable byte integers match the spec's boundaries")
    func variableByteIntegerBoundaries() throws {
        let table: [(Int, [UInt8])] = [
            (0, [0x00]), (127, [0x7F]), (128, [0x80, 0x01]), (16_383, [0xFF, 0x7F]), (16_384, [0x80, 0x80, 0x01]),
            (2_097_151, [0xFF, 0xFF, 0x7F]), (2_097_152, [0x80, 0x80, 0x80, 0x01]),
            (268_435_455, [0xFF, 0xFF, 0xFF, 0x7F]),
        ]
        for (value, expected) in table {
            var buffer = ByteBuffer()
            let written = buffer.writeMQTTVariableByteInteger(value)
            #expect(Array(buffer.readableBytesView) == expected, "\(value)")
            #expect(written == expected.count)
            #expect(mqttVariableByteIntegerSize(value) == expected.count)
            #expect(try buffer.readMQTTVariableByteInteger() == value)
            #expect(Wire.vbi(value) == expected)
        }
        var partial = ByteBuffer(bytes: [0xFF, 0xFF])
        #expect(try partial.readMQTTVariableByteInteger() == nil)
        #expect(partial.readableBytes == 2, "an incomplete integer consumes nothing")
    }
}
