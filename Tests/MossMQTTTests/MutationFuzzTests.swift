import MossMQTT
import NIOCore
import Testing

/// A deterministic generator so a failing input can be reproduced from its seed.
private struct Xorshift: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
}

@Suite("MQTT decoder against mutated input")
struct MutationFuzzTests {
    /// Corrupted packets must decode to something or fail with an `MQTTCodecError`: never crash, never another
    /// error. Whatever does decode must survive encode-then-decode unchanged.
    @Test(
        "mutated packets decode or throw MQTTCodecError, and what decodes round-trips",
        arguments: [1, 2, 3, 4] as [UInt64]
    )
    func mutatedPackets(seed: UInt64) throws {
        var generator = Xorshift(state: 0x9E37_79B9_7F4A_7C15 &* seed)
        let samples = roundTripCases.map { ($0.version, $0.packet.packetType == 1, $0.packet.encoded($0.version)) }
            .filter { $0.2.count < 4096 }
        var decodedCount = 0
        var errorCount = 0
        for _ in 0..<5_000 {
            let (version, isConnect, original) = samples.randomElement(using: &generator)!
            var bytes = original
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                let index = Int.random(in: 0..<max(1, bytes.count), using: &generator)
                switch Int.random(in: 0..<5, using: &generator) {
                case 0 where !bytes.isEmpty: bytes[index] ^= UInt8(1 << Int.random(in: 0..<8, using: &generator))
                case 1 where !bytes.isEmpty: bytes[index] = UInt8.random(in: 0...255, using: &generator)
                case 2: bytes.insert(UInt8.random(in: 0...255, using: &generator), at: min(index, bytes.count))
                case 3 where bytes.count > 1: bytes.remove(at: index)
                default: bytes = Array(bytes.prefix(index))
                }
            }
            var decoder = MQTTPacketDecoder(maximumPacketSize: 64 * 1024, protocolVersion: isConnect ? nil : version)
            do {
                let (packets, _) = try decodeAll(bytes, decoder: &decoder)
                for packet in packets {
                    decodedCount += 1
                    let packetVersion: MQTTProtocolVersion
                    if case .connect(let connect) = packet {
                        packetVersion = connect.protocolVersion
                    } else {
                        packetVersion = decoder.protocolVersion ?? version
                    }
                    var again = MQTTPacketDecoder(protocolVersion: packet.packetType == 1 ? nil : packetVersion)
                    let reencoded = packet.encoded(packetVersion)
                    let redecoded = try decodeAll(reencoded, decoder: &again)
                    #expect(redecoded.packets == [packet], "input \(bytes)")
                    #expect(redecoded.leftover == 0, "input \(bytes)")
                }
            } catch is MQTTCodecError {
                errorCount += 1
            } catch {
                Issue.record("input \(bytes) threw \(error), not an MQTTCodecError")
            }
        }
        // Both outcomes must actually occur, or the mutations are not exercising anything.
        #expect(decodedCount > 100)
        #expect(errorCount > 100)
    }

    @Test("random bytes after a CONNECT decode or throw MQTTCodecError", arguments: [MQTTProtocolVersion.v3_1_1, .v5])
    func randomStream(version: MQTTProtocolVersion) {
        var generator = Xorshift(state: 0xDEAD_BEEF_CAFE_F00D)
        var errors = 0
        for _ in 0..<2_000 {
            var decoder = MQTTPacketDecoder(maximumPacketSize: 4096, protocolVersion: version)
            let count = Int.random(in: 1...64, using: &generator)
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            do {
                _ = try decodeAll(bytes, decoder: &decoder)
            } catch is MQTTCodecError {
                errors += 1
            } catch {
                Issue.record("input \(bytes) threw \(error), not an MQTTCodecError")
            }
        }
        #expect(errors > 100)
    }
}
