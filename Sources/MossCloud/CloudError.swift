/// Why the cloud connection or the shadow sync could not do something; each names what is wrong.
public struct CloudError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case unreadableFile(what: String, path: String, reason: String)
        case refused(returnCode: UInt8)
        case protocolViolation(String)
        case timedOut(String)
        case closed
    }

    private let code: Code
    private init(_ code: Code) { self.code = code }

    /// A configured file (`certificate`, `privateKey`, `caCertificate`) that cannot be used.
    public static func unreadableFile(what: String, path: String, reason: String) -> Self {
        Self(.unreadableFile(what: what, path: path, reason: reason))
    }

    /// The cloud answered CONNECT with this return code.
    public static func refused(returnCode: UInt8) -> Self { Self(.refused(returnCode: returnCode)) }
    static func protocolViolation(_ what: String) -> Self { Self(.protocolViolation(what)) }
    static func timedOut(_ what: String) -> Self { Self(.timedOut(what)) }
    static let closed = Self(.closed)

    /// The configuration key an unreadable file belongs to, for the daemon's configuration error.
    public var configurationKey: String? {
        if case .unreadableFile(let what, _, _) = code { return what }
        return nil
    }

    public var description: String {
        switch code {
        case .unreadableFile(let what, let path, let reason): "\(what) \(path) cannot be used: \(reason)"
        case .refused(let returnCode):
            "the cloud refused the connection (CONNACK \(returnCode): \(Self.connackText(returnCode)))"
        case .protocolViolation(let what): "the cloud broke the MQTT protocol: \(what)"
        case .timedOut(let what): "timed out waiting for \(what)"
        case .closed: "the cloud closed the connection"
        }
    }

    private static func connackText(_ code: UInt8) -> String {
        switch code {
        case 1: "unacceptable protocol version"
        case 2: "client identifier rejected"
        case 3: "server unavailable"
        case 4: "bad user name or password"
        case 5: "not authorized"
        default: "unknown"
        }
    }
}
