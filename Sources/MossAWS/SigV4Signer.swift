import Crypto
public import Foundation

/// Signs requests with AWS Signature Version 4, exactly as botocore does (checked byte for byte against it by
/// Tests/MossAWSTests/SigV4VectorTests.swift and scripts/aws/sigv4_vectors.py).
///
/// Two sets of rules exist. S3's: the canonical URI is the path as sent (encoded once) and every request carries
/// `x-amz-content-sha256`. Everyone else's: the path loses `.`/`..` segments and empty segments and is encoded a
/// second time, and the payload hash is only in the canonical request.
public struct SigV4Signer: Sendable {
    /// How the body enters the signature.
    public enum PayloadSigning: Sendable, Hashable {
        /// The SHA-256 of the body.
        case signed
        /// The literal `UNSIGNED-PAYLOAD` (also sent as `x-amz-content-sha256`): for streamed or large bodies on TLS.
        case unsigned
    }

    /// The credentials that sign.
    public var credentials: AWSCredentials
    /// The region in the credential scope (`eu-west-1`).
    public var region: String
    /// The signing name in the credential scope (`s3`, `sagemaker`, `iotdata`, `iot`).
    public var service: String
    /// S3's rules (path used as sent, `x-amz-content-sha256` always); by default when `service` is `s3`.
    public var usesS3Rules: Bool

    /// A signer for one service in one region.
    public init(credentials: AWSCredentials, region: String, service: String, usesS3Rules: Bool? = nil) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.usesS3Rules = usesS3Rules ?? (service == "s3")
    }

    /// Adds `X-Amz-Date`, `X-Amz-Security-Token` (with a session token), `X-Amz-Content-SHA256` (S3, or an unsigned
    /// payload) and `Authorization` to `request`, replacing earlier ones, and returns what was signed.
    @discardableResult
    public func sign(_ request: inout AWSRequest, at instant: Date, payload: PayloadSigning = .signed) -> SigV4Signature
    {
        let timestamp = SigV4Timestamp(instant)
        request.removeHeader("Authorization")
        request.setHeader("X-Amz-Date", timestamp.dateTime)
        if let token = credentials.sessionToken { request.setHeader("X-Amz-Security-Token", token) }
        if payload == .unsigned || usesS3Rules {
            request.setHeader("X-Amz-Content-SHA256", payloadHash(request, payload: payload))
        }
        let signature = computeSignature(request, query: request.query, timestamp: timestamp, payload: payload)
        request.headers.append(AWSHeader("Authorization", signature.authorization))
        return signature
    }

    /// A presigned URL for `request`, valid for `expires` seconds from `instant`: the signature travels in the
    /// query (`X-Amz-Algorithm` … `X-Amz-Signature`) and any headers of `request` must be sent with it unchanged.
    public func presign(
        _ request: AWSRequest,
        at instant: Date,
        expires: Int
    ) -> (url: String, signature: SigV4Signature) {
        let timestamp = SigV4Timestamp(instant)
        var request = request
        // botocore drops the form content type its serializer adds by itself; so do we, to sign the same headers.
        if request.header("Content-Type") == "application/x-www-form-urlencoded; charset=utf-8" {
            request.removeHeader("Content-Type")
        }
        var authorization = [
            AWSQueryItem("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            AWSQueryItem("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope(timestamp))"),
            AWSQueryItem("X-Amz-Date", timestamp.dateTime),
            AWSQueryItem("X-Amz-Expires", String(expires)),
            AWSQueryItem("X-Amz-SignedHeaders", signedHeaders(of: headersToSign(request)).names),
        ]
        if let token = credentials.sessionToken { authorization.append(AWSQueryItem("X-Amz-Security-Token", token)) }
        request.query += authorization
        let signature = computeSignature(
            request,
            query: request.query,
            timestamp: timestamp,
            payload: usesS3Rules ? .unsigned : .signed
        )
        return (request.url + "&X-Amz-Signature=" + signature.signature, signature)
    }

    // MARK: The algorithm

    private func computeSignature(
        _ request: AWSRequest,
        query: [AWSQueryItem],
        timestamp: SigV4Timestamp,
        payload: PayloadSigning
    ) -> SigV4Signature {
        let headers = signedHeaders(of: headersToSign(request))
        let canonicalRequest = [
            request.method.uppercased(),
            canonicalURI(request.path),
            Self.canonicalQuery(query),
            headers.canonical + "\n",
            headers.names,
            request.header("X-Amz-Content-SHA256") ?? payloadHash(request, payload: payload),
        ].joined(separator: "\n")
        let stringToSign = [
            "AWS4-HMAC-SHA256",
            timestamp.dateTime,
            scope(timestamp),
            Self.hex(SHA256.hash(data: Array(canonicalRequest.utf8))),
        ].joined(separator: "\n")
        var key = SymmetricKey(data: Array("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [String(timestamp.date), region, service, "aws4_request"] {
            key = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key))
        }
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key))
        return SigV4Signature(
            canonicalRequest: canonicalRequest,
            stringToSign: stringToSign,
            signature: signature,
            signedHeaders: headers.names,
            authorization: "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope(timestamp)), "
                + "SignedHeaders=\(headers.names), Signature=\(signature)"
        )
    }

    private func scope(_ timestamp: SigV4Timestamp) -> String {
        "\(timestamp.date)/\(region)/\(service)/aws4_request"
    }

    private func payloadHash(_ request: AWSRequest, payload: PayloadSigning) -> String {
        switch payload {
        case .unsigned: "UNSIGNED-PAYLOAD"
        case .signed: Self.hex(SHA256.hash(data: request.body))
        }
    }

    /// Hop-by-hop and client-identifying headers a proxy may change: botocore leaves them out, so must we.
    private static let unsignedHeaders: Set<String> = [
        "connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id",
    ]

    private func headersToSign(_ request: AWSRequest) -> [AWSHeader] {
        var headers = request.headers
            .map { AWSHeader($0.name.lowercased(), $0.value) }
            .filter { !Self.unsignedHeaders.contains($0.name) }
        if !headers.contains(where: { $0.name == "host" }) {
            headers.append(AWSHeader("host", request.endpoint.hostHeader))
        }
        return headers
    }

    /// Names sorted and deduplicated; a repeated name's values joined by commas in order, each with its runs of
    /// white space collapsed to one space and trimmed.
    private func signedHeaders(of headers: [AWSHeader]) -> (canonical: String, names: String) {
        var valuesByName: [String: [String]] = [:]
        for header in headers {
            let value = header.value.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            valuesByName[header.name, default: []].append(value)
        }
        let names = valuesByName.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let canonical = names.map { "\($0):\(valuesByName[$0]!.joined(separator: ","))" }.joined(separator: "\n")
        return (canonical, names.joined(separator: ";"))
    }

    private func canonicalURI(_ path: String) -> String {
        usesS3Rules ? path : AWSURIEncoding.encode(Self.removingDotSegments(path), keepingSlashes: true)
    }

    /// RFC 3986 §5.2.4, plus what AWS services want on top: empty segments (`//`) removed too.
    static func removingDotSegments(_ path: String) -> String {
        guard !path.isEmpty else { return "/" }
        var output: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) where segment != "." {
            if segment == ".." {
                _ = output.popLast()
            } else {
                output.append(segment)
            }
        }
        let first = path.hasPrefix("/") ? "/" : ""
        let last = path.hasSuffix("/") && !output.isEmpty ? "/" : ""
        return first + output.joined(separator: "/") + last
    }

    /// Each name and value encoded, sorted by encoded name then encoded value (byte order), `name=value` joined by `&`.
    static func canonicalQuery(_ query: [AWSQueryItem]) -> String {
        query
            .map { (AWSURIEncoding.encode($0.name), AWSURIEncoding.encode($0.value)) }
            .sorted { lhs, rhs in
                lhs.0 == rhs.0
                    ? lhs.1.utf8.lexicographicallyPrecedes(rhs.1.utf8)
                    : lhs.0.utf8.lexicographicallyPrecedes(rhs.0.utf8)
            }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        var result: [UInt8] = []
        for byte in bytes {
            result.append(hexDigits[Int(byte >> 4)])
            result.append(hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: result, as: UTF8.self)
    }
}

/// What a signature covered: kept for tests and for debugging a `SignatureDoesNotMatch`.
public struct SigV4Signature: Sendable, Hashable {
    /// The canonical request (method, URI, query, headers, signed header names, payload hash).
    public var canonicalRequest: String
    /// `AWS4-HMAC-SHA256`, the timestamp, the scope and the canonical request's hash.
    public var stringToSign: String
    /// The signature in lowercase hex.
    public var signature: String
    /// The signed header names, `;`-separated.
    public var signedHeaders: String
    /// The `Authorization` header value.
    public var authorization: String
}
