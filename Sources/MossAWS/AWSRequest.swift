/// A query parameter, decoded: encoding is done once, when the request is signed and sent.
public struct AWSQueryItem: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String = "") {
        self.name = name
        self.value = value
    }
}

/// A header field. A request keeps its fields in order and a name may repeat (SigV4 joins the values with commas).
public struct AWSHeader: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// An HTTP request to an AWS service, as SigV4 sees it.
public struct AWSRequest: Sendable, Hashable {
    /// `GET`, `HEAD`, `PUT`, `POST`, `DELETE`.
    public var method: String
    /// Where the request goes.
    public var endpoint: AWSEndpoint
    /// The path as sent, percent-encoded once (`/bucket/rain%20model.zip`); see ``AWSURIEncoding``.
    public var path: String
    /// The query parameters, decoded, in the order they are sent.
    public var query: [AWSQueryItem]
    /// The header fields, in order.
    public var headers: [AWSHeader]
    /// The body (empty for GET and HEAD).
    public var body: [UInt8]

    /// A request from its parts.
    public init(
        method: String,
        endpoint: AWSEndpoint,
        path: String = "/",
        query: [AWSQueryItem] = [],
        headers: [AWSHeader] = [],
        body: [UInt8] = []
    ) {
        self.method = method
        self.endpoint = endpoint
        self.path = path.isEmpty ? "/" : path
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// The query as sent: each name and value percent-encoded, in order, `&`-separated.
    public var encodedQuery: String {
        query.map { "\(AWSURIEncoding.encode($0.name))=\(AWSURIEncoding.encode($0.value))" }.joined(separator: "&")
    }

    /// The full URL as sent.
    public var url: String {
        query.isEmpty ? "\(endpoint)\(path)" : "\(endpoint)\(path)?\(encodedQuery)"
    }

    /// The values of every field named `name` (case-insensitive), in order.
    public func headerValues(_ name: String) -> [String] {
        let name = name.lowercased()
        return headers.filter { $0.name.lowercased() == name }.map(\.value)
    }

    /// The first value of the field named `name`, if any.
    public func header(_ name: String) -> String? { headerValues(name).first }

    /// Removes every field named `name`, then appends one with `value`.
    public mutating func setHeader(_ name: String, _ value: String) {
        removeHeader(name)
        headers.append(AWSHeader(name, value))
    }

    /// Removes every field named `name` (case-insensitive).
    public mutating func removeHeader(_ name: String) {
        let name = name.lowercased()
        headers.removeAll { $0.name.lowercased() == name }
    }
}
