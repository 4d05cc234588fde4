#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An invocation's client context: the `X-Amz-Client-Context` header, base64 of `{"custom": {...}}` JSON
/// (greengrass-v1.md §3.4). For a routed MQTT message, `custom.subject` is its topic.
public struct ClientContext: Sendable, Hashable {
    public var custom: [String: JSONValue]

    public init(custom: [String: JSONValue] = [:]) {
        self.custom = custom
    }

    /// `custom.subject`: the topic of a routed message, or of a publish or shadow request.
    public var subject: String? { custom["subject"]?.stringValue }

    private struct Wire: Codable {
        var custom: [String: JSONValue]?
    }

    /// The header value: base64 JSON.
    public var headerValue: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding [String: JSONValue] cannot fail: every case maps onto JSON.
        let data = (try? encoder.encode(Wire(custom: custom))) ?? Data("{}".utf8)
        return data.base64EncodedString()
    }

    /// Decodes a header value; an empty one is an empty context.
    public init(headerValue: String) throws(ClientContextError) {
        guard !headerValue.isEmpty else {
            self.init()
            return
        }
        guard let data = Data(base64Encoded: headerValue) else {
            throw ClientContextError(header: headerValue, problem: "is not base64")
        }
        do {
            self.init(custom: try JSONDecoder().decode(Wire.self, from: data).custom ?? [:])
        } catch {
            throw ClientContextError(header: headerValue, problem: "is not a JSON object with a \"custom\" object")
        }
    }
}

/// An `X-Amz-Client-Context` header that cannot be decoded.
public struct ClientContextError: Error, Sendable, Hashable, CustomStringConvertible {
    public var header: String
    public var problem: String

    public var description: String { "the client context \(header.prefix(64)) \(problem)" }
}
