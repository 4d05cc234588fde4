import MossMQTT
import NIOCore

/// Hand-written MQTT wire bytes for test vectors: each helper is the spec's encoding, written independently of the codec.
enum Wire {
    /// A whole packet: first byte, remaining length, body.
    static func packet(_ first: UInt8, _ body: [UInt8]) -> [UInt8] {
        [first] + vbi(body.count) + body
    }

    /// A variable byte integer (MQTT 1.5.5).
    static func vbi(_ value: Int) -> [UInt8] {
        var remaining = value
        var bytes: [UInt8] = []
        repeat {
            var byte = UInt8(remaining % 128)
            remaining /= 128
            if remaining > 0 { byte |= 0x80 }
            bytes.append(byte)
        } while remaining > 0
        return bytes
    }

    static func u16(_ value: Int) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }

    static func u32(_ value: Int) -> [UInt8] {
        [UInt8((value >> 24) & 0xFF), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }

    /// A length-prefixed UTF-8 string.
    static func str(_ string: String) -> [UInt8] { u16(string.utf8.count) + Array(string.utf8) }

    /// A length-prefixed string of raw (possibly invalid) bytes.
    static func rawString(_ bytes: [UInt8]) -> [UInt8] { u16(bytes.count) + bytes }

    /// A v5 property block: length prefix and the given property bytes.
    static func properties(_ bytes: [UInt8]) -> [UInt8] { vbi(bytes.count) + bytes }

    /// A CONNECT with the given flags, level and payload (everything after keep alive and, for 5.0, the properties).
    static func connect(
        name: String = "MQTT",
        level: UInt8 = 4,
        flags: UInt8 = 0x02,
        keepAlive: Int = 60,
        properties: [UInt8]? = nil,
        payload: [UInt8]
    ) -> [UInt8] {
        var body = str(name) + [level, flags] + u16(keepAlive)
        if let properties {
            body += Wire.properties(properties)
        } else if level == 5 {
            body += [0x00]
        }
        return packet(0x10, body + payload)
    }

    /// A minimal valid CONNECT (clean session, client id "c").
    static func connect(level: UInt8 = 4) -> [UInt8] {
        connect(level: level, payload: str("c"))
    }
}

extension ByteBuffer {
    init(_ bytes: [UInt8]) { self.init(bytes: bytes) }
}

extension MQTTPacket {
    /// The packet's encoding for `version` as plain bytes.
    func encoded(_ version: MQTTProtocolVersion) -> [UInt8] {
        var buffer = ByteBuffer()
        encode(into: &buffer, version: version)
        return Array(buffer.readableBytesView)
    }
}

/// Decodes every whole packet in `bytes` with one decoder; throws the decoder's error.
func decodeAll(_ bytes: [UInt8], decoder: inout MQTTPacketDecoder) throws -> (packets: [MQTTPacket], leftover: Int) {
    var buffer = ByteBuffer(bytes)
    var packets: [MQTTPacket] = []
    while let packet = try decoder.decode(buffer: &buffer) {
        packets.append(packet)
    }
    return (packets, buffer.readableBytes)
}
