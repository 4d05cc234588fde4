#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The shadow service refused a request: AWS's error document, `{"code": 404, "message": "..."}`.
public struct ShadowError: Error, Sendable, Hashable, CustomStringConvertible {
    /// AWS's code: 400 bad request, 401, 403, 404 no such shadow, 409 version conflict, 413, 429, 500.
    public var code: Int
    public var message: String

    public init(code: Int, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "shadow error \(code): \(message)" }

    private struct Wire: Decodable {
        var code: Int
        var message: String
    }

    /// The error a shadow reply carries, or nil when it is a document: as greengrasssdk, a reply that is a JSON
    /// object with both `code` and `message` is an error.
    public init?(reply: [UInt8]) {
        guard let wire = try? JSONDecoder().decode(Wire.self, from: Data(reply)) else { return nil }
        self.init(code: wire.code, message: wire.message)
    }
}
