/// Why bytes from the wire are not a valid MQTT packet. Each maps to the 5.0 reason code sent before closing.
public struct MQTTCodecError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case malformedRemainingLength
        case packetTooLarge(size: Int, limit: Int)
        case reservedPacketType
        case invalidFixedHeaderFlags(type: UInt8, flags: UInt8)
        case firstPacketNotConnect(type: UInt8)
        case unknownProtocolName(String)
        case unsupportedProtocolVersion(UInt8)
        case malformed(String)
        case protocolViolation(String)
        case invalidUTF8
        case nullCharacterInString
        case invalidTopic(String)
        case unexpectedLength(type: UInt8, length: Int)
        case duplicateProperty(UInt8)
        case propertyNotAllowed(property: UInt8, packetType: UInt8)
        case unknownProperty(UInt8)
    }

    private let code: Code
    private init(_ code: Code) { self.code = code }

    public static let malformedRemainingLength = Self(.malformedRemainingLength)
    public static func packetTooLarge(size: Int, limit: Int) -> Self { Self(.packetTooLarge(size: size, limit: limit)) }
    public static let reservedPacketType = Self(.reservedPacketType)
    public static func invalidFixedHeaderFlags(type: UInt8, flags: UInt8) -> Self {
        Self(.invalidFixedHeaderFlags(type: type, flags: flags))
    }
    public static func firstPacketNotConnect(type: UInt8) -> Self { Self(.firstPacketNotConnect(type: type)) }
    public static func unknownProtocolName(_ name: String) -> Self { Self(.unknownProtocolName(name)) }
    /// The CONNECT names a protocol level we do not speak; the broker answers CONNACK 0x01 / 0x84 before closing.
    public static func unsupportedProtocolVersion(_ level: UInt8) -> Self { Self(.unsupportedProtocolVersion(level)) }
    public static func malformed(_ what: String) -> Self { Self(.malformed(what)) }
    public static func protocolViolation(_ what: String) -> Self { Self(.protocolViolation(what)) }
    public static let invalidUTF8 = Self(.invalidUTF8)
    public static let nullCharacterInString = Self(.nullCharacterInString)
    public static func invalidTopic(_ problem: String) -> Self { Self(.invalidTopic(problem)) }
    public static func unexpectedLength(type: UInt8, length: Int) -> Self { Self(.unexpectedLength(type: type, length: length)) }
    public static func duplicateProperty(_ id: UInt8) -> Self { Self(.duplicateProperty(id)) }
    public static func propertyNotAllowed(property: UInt8, packetType: UInt8) -> Self {
        Self(.propertyNotAllowed(property: property, packetType: packetType))
    }
    public static func unknownProperty(_ id: UInt8) -> Self { Self(.unknownProperty(id)) }

    /// The protocol level of an unsupported CONNECT, so the broker can answer it in kind.
    public var unsupportedProtocolLevel: UInt8? {
        if case .unsupportedProtocolVersion(let level) = code { return level }
        return nil
    }

    /// The 5.0 reason code a server sends in DISCONNECT (or CONNACK) before closing for this error.
    public var reasonCode: MQTTReasonCode {
        switch code {
        case .packetTooLarge: .packetTooLarge
        case .unsupportedProtocolVersion: .unsupportedProtocolVersion
        case .invalidTopic: .topicNameInvalid
        case .protocolViolation, .duplicateProperty, .propertyNotAllowed, .firstPacketNotConnect: .protocolError
        default: .malformedPacket
        }
    }

    public var description: String {
        switch code {
        case .malformedRemainingLength: "remaining length uses more than 4 bytes"
        case .packetTooLarge(let size, let limit): "packet of \(size) bytes exceeds the maximum packet size of \(limit)"
        case .reservedPacketType: "packet type 0 is reserved"
        case .invalidFixedHeaderFlags(let type, let flags):
            "invalid fixed header flags 0x\(String(flags, radix: 16)) for packet type \(type)"
        case .firstPacketNotConnect(let type): "first packet must be CONNECT, got packet type \(type)"
        case .unknownProtocolName(let name): "unknown protocol name '\(name)'"
        case .unsupportedProtocolVersion(let level): "unsupported protocol level \(level)"
        case .malformed(let what): "malformed packet: \(what)"
        case .protocolViolation(let what): "protocol error: \(what)"
        case .invalidUTF8: "string is not well-formed UTF-8"
        case .nullCharacterInString: "string contains U+0000"
        case .invalidTopic(let problem): "invalid topic: \(problem)"
        case .unexpectedLength(let type, let length): "packet type \(type) cannot have remaining length \(length)"
        case .duplicateProperty(let id): "property 0x\(String(id, radix: 16)) appears more than once"
        case .propertyNotAllowed(let property, let type):
            "property 0x\(String(property, radix: 16)) is not allowed in packet type \(type)"
        case .unknownProperty(let id): "unknown property identifier 0x\(String(id, radix: 16))"
        }
    }
}
