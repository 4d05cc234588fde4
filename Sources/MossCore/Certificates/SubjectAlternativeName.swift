#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One name the core's server certificate answers to: a DNS name or an IP address.
public enum SubjectAlternativeName: Sendable, Hashable, CustomStringConvertible {
    case dnsName(String)
    /// The address in network byte order: 4 bytes for IPv4, 16 for IPv6.
    case ipAddress(String, bytes: [UInt8])

    /// The default when no SANs are given: the core reached on its own machine.
    public static let defaults: [SubjectAlternativeName] = [
        .dnsName("localhost"), .ipAddress("127.0.0.1", bytes: [127, 0, 0, 1]),
    ]

    /// Parses `value` as an IP address if it is one, otherwise as a DNS name (a leading `*.` wildcard is allowed).
    public init(parsing value: String) throws(CertificateError) {
        if let bytes = Self.ipv4Bytes(value) ?? Self.ipv6Bytes(value) {
            self = .ipAddress(value, bytes: bytes)
            return
        }
        let name = value.hasPrefix("*.") ? String(value.dropFirst(2)) : value
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        let validLabels = labels.allSatisfy { label in
            (1...63).contains(label.count) && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
        guard !name.isEmpty, name.utf8.count <= 253, validLabels else {
            throw .invalidSubjectAlternativeName(value)
        }
        self = .dnsName(value.lowercased())
    }

    public var description: String {
        switch self {
        case .dnsName(let name): "DNS:\(name)"
        case .ipAddress(let text, _): "IP:\(text)"
        }
    }

    private static func ipv4Bytes(_ text: String) -> [UInt8]? {
        var address = in_addr()
        guard inet_pton(AF_INET, text, &address) == 1 else { return nil }
        return withUnsafeBytes(of: &address) { Array($0) }
    }

    private static func ipv6Bytes(_ text: String) -> [UInt8]? {
        var address = in6_addr()
        guard inet_pton(AF_INET6, text, &address) == 1 else { return nil }
        return withUnsafeBytes(of: &address) { Array($0) }
    }
}
