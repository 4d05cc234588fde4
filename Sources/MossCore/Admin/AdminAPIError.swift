/// An error the admin API answers with: an HTTP status and `{"error": {"code": ..., "message": ...}}`.
///
/// Route handlers throw these; anything else becomes a 500 `internal` error (and is logged).
public struct AdminAPIError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The HTTP status code.
    public var status: Int
    /// A stable machine-readable code, e.g. `not_found`, `bad_request`.
    public var code: String
    /// A sentence for the operator.
    public var message: String

    public init(status: Int, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public static func notFound(_ message: String) -> Self { Self(status: 404, code: "not_found", message: message) }
    public static func badRequest(_ message: String) -> Self {
        Self(status: 400, code: "bad_request", message: message)
    }
    public static func conflict(_ message: String) -> Self { Self(status: 409, code: "conflict", message: message) }
    public static func unavailable(_ message: String) -> Self {
        Self(status: 503, code: "unavailable", message: message)
    }
    public static func `internal`(_ message: String) -> Self { Self(status: 500, code: "internal", message: message) }

    public var description: String { "\(code) (HTTP \(status)): \(message)" }
}

/// The JSON shape of an error reply, shared by the server and ``AdminClient``.
struct AdminErrorBody: Codable, Sendable {
    struct Detail: Codable, Sendable {
        var code: String
        var message: String
    }

    var error: Detail
}
