/// Compact JSON output (no whitespace, UTF-8, `/` and non-ASCII unescaped): the form the size limit counts
/// and every reply uses.
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []

    public init(reservingCapacity capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    public static func serialize(_ value: JSONValue) -> [UInt8] {
        var writer = JSONWriter()
        writer.write(value)
        return writer.bytes
    }

    public mutating func write(_ value: JSONValue) {
        switch value {
        case .null: raw("null")
        case .bool(let flag): raw(flag ? "true" : "false")
        case .number(let number): bytes.append(contentsOf: number.text.utf8)
        case .string(let text): write(string: text)
        case .array(let elements):
            bytes.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { bytes.append(UInt8(ascii: ",")) }
                write(element)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let object):
            bytes.append(UInt8(ascii: "{"))
            var first = true
            for (key, member) in object {
                if !first { bytes.append(UInt8(ascii: ",")) }
                first = false
                write(string: key)
                bytes.append(UInt8(ascii: ":"))
                write(member)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    public mutating func write(string: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): raw("\\\"")
            case UInt8(ascii: "\\"): raw("\\\\")
            case 0x0A: raw("\\n")
            case 0x0D: raw("\\r")
            case 0x09: raw("\\t")
            case 0x08: raw("\\b")
            case 0x0C: raw("\\f")
            case 0x00..<0x20:
                raw("\\u00")
                bytes.append(Self.hexDigit(byte >> 4))
                bytes.append(Self.hexDigit(byte & 0x0F))
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    public mutating func write(integer: Int64) {
        bytes.append(contentsOf: String(integer).utf8)
    }

    /// Appends bytes that are already JSON (a fragment serialized earlier).
    public mutating func append(json: [UInt8]) {
        bytes.append(contentsOf: json)
    }

    /// Appends ASCII punctuation or a literal.
    public mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// `"key":`
    public mutating func key(_ name: StaticString) {
        bytes.append(UInt8(ascii: "\""))
        raw(name)
        raw("\":")
    }

    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
    }

    /// Indented output for people (two spaces, keys in document order); numbers keep their text.
    public static func prettyPrinted(_ value: JSONValue) -> String {
        var writer = JSONWriter()
        writer.writePretty(value, indent: 0)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    private mutating func writePretty(_ value: JSONValue, indent: Int) {
        switch value {
        case .array(let elements) where !elements.isEmpty:
            raw("[\n")
            for (position, element) in elements.enumerated() {
                if position > 0 { raw(",\n") }
                pad(indent + 1)
                writePretty(element, indent: indent + 1)
            }
            raw("\n")
            pad(indent)
            raw("]")
        case .object(let object) where !object.isEmpty:
            raw("{\n")
            var first = true
            for (key, member) in object {
                if !first { raw(",\n") }
                first = false
                pad(indent + 1)
                write(string: key)
                raw(": ")
                writePretty(member, indent: indent + 1)
            }
            raw("\n")
            pad(indent)
            raw("}")
        default:
            write(value)
        }
    }

    private mutating func pad(_ depth: Int) {
        bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: depth * 2))
    }
}
