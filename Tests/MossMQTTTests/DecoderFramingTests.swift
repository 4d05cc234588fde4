import MossMQTT
import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing

/// A deterministic generator so a failing random split can be reproduced from its seed.
private struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Splits `bytes` into the chunks a connection might deliver them in.
private func chunks(_ bytes: [UInt8], strategy: FramingStrategy) -> [[UInt8]] {
    switch strategy {
    case .whole:
        return [bytes]
    case .byteByByte:
        return bytes.map { [$0] }
    case .random(let seed):
        var generator = SplitMix64(state: seed)
        var result: [[UInt8]] = []
        var index = 0
        while index < bytes.count {
            let size = Int.random(in: 1...max(1, min(64, bytes.count - index)), using: &generator)
            result.append(Array(bytes[index..<index + size]))
            index += size
        }
        return result
    }
}

enum FramingStrategy: Sendable, CustomTestStringConvertible {
    case whole
    case byteByByte
    case random(seed: UInt64)

    var testDescription: String {
        switch self {
        case .whole: "whole"
        case .byteByByte: "byte by byte"
        case .random(let seed): "random chunks (seed \(seed))"
        }
    }

    static let all: [Self] = [.whole, .byteByByte] + (1...8).map { .random(seed: $0) }
}

/// Feeds `bytes` through a `ByteToMessageHandler` in the given chunks and returns every decoded packet.
private func decodeThroughChannel(
    _ bytes: [UInt8],
    strategy: FramingStrategy,
    decoder: MQTTPacketDecoder = MQTTPacketDecoder()
) throws -> [MQTTPacket] {
    let channel = EmbeddedChannel()
    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(decoder))
    var packets: [MQTTPacket] = []
    for chunk in chunks(bytes, strategy: strategy) {
        try channel.writeInbound(ByteBuffer(chunk))
        while let packet = try channel.readInbound(as: MQTTPacket.self) { packets.append(packet) }
    }
    #expect(try channel.finish().isClean)
    return packets
}

@Suite("MQTT decoder framing")
struct DecoderFramingTests {
    /// Every non-CONNECT packet of the round-trip table for `version`, as (bytes, [packet]) pairs.
    private static func pairs(for version: MQTTProtocolVersion) -> [(ByteBuffer, [MQTTPacket])] {
        // Large packets stay out: the verifier drip-feeds every input ten times (they are split in `connectionStream`).
        let packets = roundTripCases.filter { $0.version == version && $0.packet.packetType != 1 }.map(\.packet)
            .filter { $0.encoded(version).count < 1024 }
        var pairs = packets.map { (ByteBuffer($0.encoded(version)), [$0]) }
        // Several packets in one read.
        let burst = Array(packets.prefix(5))
        pairs.append((ByteBuffer(burst.flatMap { $0.encoded(version) }), burst))
        return pairs
    }

    @Test(
        "ByteToMessageDecoderVerifier: whole, byte by byte and in bulk",
        arguments: [MQTTProtocolVersion.v3_1_1, .v5]
    )
    func verifier(version: MQTTProtocolVersion) throws {
        let pairs = Self.pairs(for: version)
        #expect(pairs.count > 20)
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) {
            MQTTPacketDecoder(maximumPacketSize: 64 * 1024, protocolVersion: version)
        }
    }

    /// The verifier repeats each input on one decoder, which a CONNECT (allowed once) cannot survive:
    /// whole connections are split here instead, each on a fresh decoder.
    @Test("a whole connection decodes the same however it is split", arguments: FramingStrategy.all)
    func connectionStream(strategy: FramingStrategy) throws {
        for version in [MQTTProtocolVersion.v3_1_1, .v5] {
            let connect = roundTripCases.first {
                $0.version == version && $0.packet.packetType == 1 && $0.name.hasPrefix("CONNECT will QoS 2")
            }
            let rest = roundTripCases.filter { $0.version == version && $0.packet.packetType != 1 }.map(\.packet)
            let packets = [try #require(connect).packet] + rest
            let bytes = packets.flatMap { $0.encoded(version) }
            #expect(try decodeThroughChannel(bytes, strategy: strategy) == packets, "\(version)")
        }
    }

    @Test("a CONNECT sets the version the rest of the connection is parsed with")
    func connectSetsVersion() throws {
        // The same PUBACK bytes mean "reason code 0x10" in 5.0 and are too long in 3.1.1.
        let puback: [UInt8] = [0x40, 0x03, 0x00, 0x01, 0x10]
        var v5 = MQTTPacketDecoder()
        #expect(v5.protocolVersion == nil)
        let (packets, leftover) = try decodeAll(Wire.connect(level: 5) + puback, decoder: &v5)
        #expect(v5.protocolVersion == .v5)
        #expect(packets.last == .puback(.init(packetID: 1, reasonCode: .noMatchingSubscribers)))
        #expect(leftover == 0)

        var v3 = MQTTPacketDecoder()
        #expect(throws: MQTTCodecError.unexpectedLength(type: 4, length: 3)) {
            _ = try decodeAll(Wire.connect(level: 4) + puback, decoder: &v3)
        }
        #expect(v3.protocolVersion == .v3_1_1)
    }

    @Test("an incomplete packet consumes nothing and completes later")
    func incompletePacketWaits() throws {
        let bytes = MQTTPacket.publish(
            .init(topic: "a/b", payload: ByteBuffer(string: "payload"), qos: .atLeastOnce, packetID: 3)
        )
        .encoded(.v5)
        var decoder = MQTTPacketDecoder(maximumPacketSize: 1024, protocolVersion: .v5)
        for cut in 0..<bytes.count {
            var buffer = ByteBuffer(Array(bytes[..<cut]))
            #expect(try decoder.decode(buffer: &buffer) == nil, "cut at \(cut)")
            #expect(buffer.readableBytes == cut, "nothing consumed at cut \(cut)")
        }
        var whole = ByteBuffer(bytes + [0xC0])
        #expect(try decoder.decode(buffer: &whole) != nil)
        #expect(Array(whole.readableBytesView) == [0xC0], "only the packet is consumed")
    }

    @Test("a packet of exactly maximumPacketSize is accepted, one byte more is refused")
    func maximumPacketSizeBoundary() throws {
        let packet = MQTTPacket.publish(.init(topic: "t", payload: ByteBuffer(repeating: 1, count: 200)))
        let bytes = packet.encoded(.v3_1_1)
        var atLimit = MQTTPacketDecoder(maximumPacketSize: bytes.count, protocolVersion: .v3_1_1)
        #expect(try decodeAll(bytes, decoder: &atLimit).packets == [packet])
        var belowLimit = MQTTPacketDecoder(maximumPacketSize: bytes.count - 1, protocolVersion: .v3_1_1)
        #expect(throws: MQTTCodecError.packetTooLarge(size: bytes.count, limit: bytes.count - 1)) {
            _ = try decodeAll(bytes, decoder: &belowLimit)
        }
    }
}

@Suite("MQTT codec in a channel pipeline")
struct ChannelPipelineTests {
    @Test("decoder and encoder work in an EmbeddedChannel")
    func worksInAChannelPipeline() throws {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers(
            ByteToMessageHandler(MQTTPacketDecoder(maximumPacketSize: 128 * 1024)),
            MessageToByteHandler(MQTTPacketEncoder(protocolVersion: .v3_1_1))
        )

        try channel.writeInbound(ByteBuffer(Wire.connect(payload: Wire.str("sensor"))))
        #expect(try channel.readInbound(as: MQTTPacket.self) == .connect(.init(clientID: "sensor")))

        try channel.writeOutbound(MQTTPacket.connack(.init()))
        let connack = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(Array(connack.readableBytesView) == [0x20, 0x02, 0x00, 0x00])

        // Two packets in one read, the second split over two reads.
        let subscribe: [UInt8] = [0x82, 0x08, 0x00, 0x01, 0x00, 0x03, 0x61, 0x2F, 0x62, 0x01]
        try channel.writeInbound(ByteBuffer(subscribe + [0xC0]))
        #expect(
            try channel.readInbound(as: MQTTPacket.self)
                == .subscribe(.init(packetID: 1, subscriptions: [.init(filter: "a/b", qos: .atLeastOnce)]))
        )
        #expect(try channel.readInbound(as: MQTTPacket.self) == nil)
        try channel.writeInbound(ByteBuffer([0x00]))
        #expect(try channel.readInbound(as: MQTTPacket.self) == .pingreq)

        try channel.writeOutbound(MQTTPacket.pingresp)
        #expect(try channel.readOutbound(as: ByteBuffer.self).map { Array($0.readableBytesView) } == [0xD0, 0x00])

        #expect(try channel.finish().isClean)
    }

    @Test("a 5.0 client pipeline: the decoder is told the version up front")
    func clientPipeline() throws {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers(
            ByteToMessageHandler(MQTTPacketDecoder(protocolVersion: .v5)),
            MessageToByteHandler(MQTTPacketEncoder(protocolVersion: .v5))
        )
        let connect = MQTTPacket.connect(
            .init(protocolVersion: .v5, clientID: "c", properties: [.sessionExpiryInterval(60)])
        )
        try channel.writeOutbound(connect)
        let written = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(Array(written.readableBytesView) == connect.encoded(.v5))

        let connack = MQTTPacket.connack(.init(properties: [.assignedClientIdentifier("x"), .receiveMaximum(5)]))
        try channel.writeInbound(ByteBuffer(connack.encoded(.v5)))
        #expect(try channel.readInbound(as: MQTTPacket.self) == connack)
        #expect(try channel.finish().isClean)
    }

    @Test("a malformed packet surfaces as the MQTTCodecError")
    func malformedPacketIsAnError() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(MQTTPacketDecoder()))
        #expect(throws: MQTTCodecError.firstPacketNotConnect(type: 3)) {
            try channel.writeInbound(ByteBuffer([0x30, 0x03, 0x00, 0x01, 0x74]))
        }
        #expect(try channel.readInbound(as: MQTTPacket.self) == nil)
        _ = try? channel.finish()
    }

    @Test("a CONNECT header declaring 268435455 bytes fails at once, before any body arrives")
    func hugeConnectIsRefusedImmediately() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(MQTTPacketDecoder(maximumPacketSize: 128 * 1024)))
        #expect(throws: MQTTCodecError.packetTooLarge(size: 268_435_460, limit: 128 * 1024)) {
            try channel.writeInbound(ByteBuffer([0x10, 0xFF, 0xFF, 0xFF, 0x7F]))
        }
        #expect(try channel.readInbound(as: MQTTPacket.self) == nil)
        _ = try? channel.finish()
    }
}
