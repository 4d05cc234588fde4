#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A function's handler over raw payloads. `FunctionRuntime` calls it once per invocation, one at a time.
///
/// With `ENCODING_TYPE` json the payload is JSON text (`{}` for an empty one) and an empty result is posted as
/// `null`, as the Python runtime posts None; with binary both travel as they are. A thrown error is posted to the
/// invoker as a `Handled` function error.
public protocol FunctionHandler: Sendable {
    func handle(_ payload: [UInt8], context: FunctionContext) async throws -> [UInt8]
}

/// A handler over raw payloads, from a closure.
public struct ByteHandler: FunctionHandler {
    let body: @Sendable ([UInt8], FunctionContext) async throws -> [UInt8]

    public init(_ body: @escaping @Sendable ([UInt8], FunctionContext) async throws -> [UInt8]) {
        self.body = body
    }

    public func handle(_ payload: [UInt8], context: FunctionContext) async throws -> [UInt8] {
        try await body(payload, context)
    }
}

/// A handler over JSON: the event is decoded from the payload (`{}` when it is empty) and the output encoded
/// as the result. A payload that does not decode fails the invocation with a `Handled` error naming why.
public struct JSONHandler<Event: Decodable, Output: Encodable>: FunctionHandler {
    let body: @Sendable (Event, FunctionContext) async throws -> Output

    public init(_ body: @escaping @Sendable (Event, FunctionContext) async throws -> Output) {
        self.body = body
    }

    public func handle(_ payload: [UInt8], context: FunctionContext) async throws -> [UInt8] {
        let event: Event
        do {
            event = try JSONDecoder().decode(Event.self, from: Data(Self.isBlank(payload) ? Array("{}".utf8) : payload))
        } catch {
            throw EventDecodingError(description: "the payload is not a \(Event.self): \(error)")
        }
        let output = try await body(event, context)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return Array(try encoder.encode(output))
    }

    private static func isBlank(_ payload: [UInt8]) -> Bool {
        payload.allSatisfy { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
    }
}

extension JSONHandler where Output == NoOutput, Event: SendableMetatype {
    /// A JSON handler with no result: `null` is posted.
    public init(_ body: @escaping @Sendable (Event, FunctionContext) async throws -> Void) {
        self.body = { event, context in
            try await body(event, context)
            return NoOutput()
        }
    }
}

/// A JSON handler's event did not decode.
public struct EventDecodingError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// What a JSON handler returns when it has nothing to return: posted as `null`.
public struct NoOutput: Encodable, Sendable {
    public init() {}

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encodeNil()
    }
}
