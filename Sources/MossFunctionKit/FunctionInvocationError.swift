#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A function reported a failure to its invoker: `Handled` (its handler threw) or `Unhandled` (the core stopped it:
/// timeout, memory, crash), with the error document it posted.
public struct FunctionInvocationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The `X-Amz-Function-Error` value.
    public var kind: String
    /// The result payload: `{"errorMessage": ..., "errorType": ...}` for a handler's error.
    public var payload: [UInt8]

    /// `errorMessage` of the payload, or the payload as text.
    public var errorMessage: String {
        struct Wire: Decodable { var errorMessage: String }
        if let wire = try? JSONDecoder().decode(Wire.self, from: Data(payload)) { return wire.errorMessage }
        return String(decoding: payload, as: UTF8.self)
    }

    public var description: String { "\(kind) function error: \(errorMessage)" }
}
