import Foundation

/// Where requests for a service go: scheme, host and port, with no path.
public struct AWSEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// `https`, or `http` for a local stand-in such as moto on loopback.
    public var scheme: String
    /// The host name or IP address (an IPv6 address in brackets).
    public var host: String
    /// The port, or `nil` for the scheme's default.
    public var port: Int?

    /// An endpoint from its parts.
    public init(scheme: String = "https", host: String, port: Int? = nil) {
        self.scheme = scheme.lowercased()
        self.host = host
        self.port = port
    }

    /// Parses `https://host`, `http://127.0.0.1:5000` (a trailing `/` is allowed, any other path is refused).
    public init(url: String) throws(AWSConfigurationError) {
        guard let schemeEnd = url.range(of: "://") else {
            throw .invalidEndpoint(url, reason: "it has no scheme (write https://HOST or http://HOST:PORT)")
        }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "https" || scheme == "http" else {
            throw .invalidEndpoint(url, reason: "the scheme must be http or https")
        }
        var authority = url[schemeEnd.upperBound...]
        if authority.hasSuffix("/") { authority = authority.dropLast() }
        guard !authority.contains("/"), !authority.contains("?"), !authority.contains("@") else {
            throw .invalidEndpoint(url, reason: "an endpoint has no path, query or user")
        }
        var host = Substring(authority)
        var port: Int?
        // The port follows the last colon, unless that colon is inside an IPv6 literal.
        if let colon = authority.lastIndex(of: ":"), !authority[colon...].contains("]") {
            guard let number = Int(authority[authority.index(after: colon)...]), (1...65_535).contains(number) else {
                throw .invalidEndpoint(url, reason: "the port is not a number from 1 to 65535")
            }
            host = authority[..<colon]
            port = number
        }
        guard !host.isEmpty else { throw .invalidEndpoint(url, reason: "it has no host") }
        self.init(scheme: scheme, host: String(host), port: port)
    }

    /// `scheme://host[:port]`.
    public var description: String { "\(scheme)://\(hostHeader)" }

    /// The `Host` header: the host in lowercase, with the port unless it is the scheme's default.
    public var hostHeader: String {
        let host = host.lowercased()
        guard let port, port != Self.defaultPort(scheme) else { return host }
        return "\(host):\(port)"
    }

    static func defaultPort(_ scheme: String) -> Int? {
        switch scheme {
        case "https": 443
        case "http": 80
        default: nil
        }
    }
}
