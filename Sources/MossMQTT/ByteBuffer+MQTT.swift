public import NIOCore

extension ByteBuffer {
    /// Reads a variable byte integer; nil when more bytes are needed.
    @inlinable
    public mutating func readMQTTVariableByteInteger() throws(MQTTCodecError) -> Int? {
        var value = 0
        var multiplier = 1
        var index = readerIndex
        for _ in 0..<4 {
            guard let byte: UInt8 = getInteger(at: index) else { return nil }
            index += 1
            value += Int(byte & 0x7F) * multiplier
            if byte & 0x80 == 0 {
                moveReaderIndex(to: index)
                return value
            }
            multiplier *= 128
        }
        throw .malformedRemainingLength
    }

    /// Writes a variable byte integer (0...268_435_455).
    @inlinable
    @discardableResult
    public mutating func writeMQTTVariableByteInteger(_ value: Int) -> Int {
        var remaining = value
        var written = 0
        repeat {
            var byte = UInt8(remaining & 0x7F)
            remaining >>= 7
            if remaining > 0 { byte |= 0x80 }
            writeInteger(byte)
            written += 1
        } while remaining > 0
        return written
    }

    /// Writes a two-byte-length-prefixed UTF-8 string.
    @inlinable
    public mutating func writeMQTTString(_ string: String) {
        let lengthIndex = writerIndex
        writeInteger(UInt16(0))
        let count = writeString(string)
        setInteger(UInt16(truncatingIfNeeded: count), at: lengthIndex)
    }

    /// Writes two-byte-length-prefixed binary data.
    @inlinable
    public mutating func writeMQTTBinary(_ data: ByteBuffer) {
        writeInteger(UInt16(truncatingIfNeeded: data.readableBytes))
        writeImmutableBuffer(data)
    }
}

/// The size of a variable byte integer on the wire.
@inlinable
public func mqttVariableByteIntegerSize(_ value: Int) -> Int {
    switch value {
    case ..<128: 1
    case ..<16_384: 2
    case ..<2_097_152: 3
    default: 4
    }
}

/// Reading helpers for a packet body whose length is already known; running out of bytes is malformed.
struct MQTTBodyReader {
    var buffer: ByteBuffer

    var isEmpty: Bool { buffer.readableBytes == 0 }
    var remaining: Int { buffer.readableBytes }

    mutating func byte(_ what: @autoclosure () -> String) throws(MQTTCodecError) -> UInt8 {
        guard let value: UInt8 = buffer.readInteger() else { throw .malformed("\(what()) is missing") }
        return value
    }

    mutating func uint16(_ what: @autoclosure () -> String) throws(MQTTCodecError) -> UInt16 {
        guard let value: UInt16 = buffer.readInteger() else { throw .malformed("\(what()) is missing") }
        return value
    }

    mutating func uint32(_ what: @autoclosure () -> String) throws(MQTTCodecError) -> UInt32 {
        guard let value: UInt32 = buffer.readInteger() else { throw .malformed("\(what()) is missing") }
        return value
    }

    mutating func variableInteger(_ what: @autoclosure () -> String) throws(MQTTCodecError) -> Int {
        guard let value = try buffer.readMQTTVariableByteInteger() else { throw .malformed("\(what()) is truncated") }
        return value
    }

    mutating func binary(_ what: @autoclosure () -> String) throws(MQTTCodecError) -> ByteBuffer {
        let length = try uint16(what())
        guard let slice = buffer.readSlice(length: Int(length)) else { throw .malformed("\(what()) is truncated") }
        return slice
    }

    /// A UTF-8 string: well-formed and free of U+0000 (MQTT-1.5.3-1, -2).
    mutating func string(_ what: @autoclosure () -> String) throws(MQTTCodecError) -> String {
        let length = Int(try uint16(what()))
        guard buffer.readableBytes >= length else { throw .malformed("\(what()) is truncated") }
        let decoded: String? = buffer.withUnsafeReadableBytes { raw in
            let bytes = UnsafeRawBufferPointer(rebasing: raw[0..<length])
            if bytes.contains(0) { return nil }
            return String(validating: bytes, as: UTF8.self)
        }
        guard let string = decoded else {
            let hasNull = buffer.getBytes(at: buffer.readerIndex, length: length)?.contains(0) ?? false
            throw hasNull ? .nullCharacterInString : .invalidUTF8
        }
        buffer.moveReaderIndex(forwardBy: length)
        return string
    }

    mutating func rest() -> ByteBuffer {
        buffer.readSlice(length: buffer.readableBytes)!
    }

    mutating func slice(length: Int, _ what: @autoclosure () -> String) throws(MQTTCodecError) -> ByteBuffer {
        guard let slice = buffer.readSlice(length: length) else { throw .malformed("\(what()) is truncated") }
        return slice
    }
}
