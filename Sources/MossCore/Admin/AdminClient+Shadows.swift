import Foundation
public import MossShadow
import NIOHTTP1

/// The shadow commands' side of ``ShadowRoutes``.
extension AdminClient {
    /// Gets, updates or deletes a shadow; returns the accepted document as the service wrote it.
    public func shadow(
        _ operation: ShadowOperation,
        thing: String,
        name: String? = nil,
        payload: [UInt8]? = nil
    ) async throws(AdminClientError) -> [UInt8] {
        var path = "/v1/things/\(Self.pathComponent(thing))/shadow"
        if let name { path += "?name=\(Self.pathComponent(name))" }
        let method: HTTPMethod =
            switch operation {
            case .get: .GET
            case .update: .POST
            case .delete: .DELETE
            }
        let (status, body) = try await send(method, path, body: operation == .update ? (payload ?? []) : nil)
        guard status == 200 else { throw Self.refusal(status: status, body: body) }
        return body
    }

    /// `GET /v1/shadows[?thing=]`: the admin API's JSON listing.
    public func listShadows(thing: String? = nil) async throws(AdminClientError) -> [UInt8] {
        let path = thing.map { "/v1/shadows?thing=\(Self.pathComponent($0))" } ?? "/v1/shadows"
        let (status, body) = try await send(.GET, path)
        guard status == 200 else { throw Self.refusal(status: status, body: body) }
        return body
    }

    private static func refusal(status: Int, body: [UInt8]) -> AdminClientError {
        if case .object(let object)? = try? JSONParser.parse(body), case .string(let message)? = object["message"] {
            return .shadowRefused(code: status, message: message)
        }
        return serverError(status: status, body: body)
    }

    private static func pathComponent(_ text: String) -> String {
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~:")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
