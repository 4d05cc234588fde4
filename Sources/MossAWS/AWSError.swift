import Foundation

/// An error response from an AWS service: its HTTP status, the service's error code and message, and the request
/// id AWS support asks for.
///
/// Parsed from the three shapes AWS uses: S3's XML (`<Error><Code>…</Code><Message>…</Message>`), JSON bodies
/// (`__type`/`code` and `message`) and the `x-amzn-ErrorType` header of REST-JSON services. A response without a
/// body (a HEAD) gets the status as its code, as botocore does (`404`, `Not Found`).
public struct AWSError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The service that answered (its signing name).
    public var service: String
    /// The HTTP status.
    public var status: Int
    /// The error code (`NoSuchKey`, `ResourceNotFoundException`, `SignatureDoesNotMatch`…).
    public var code: String
    /// The message, possibly empty.
    public var message: String
    /// `x-amz-request-id`, `x-amzn-RequestId` or the body's `RequestId`.
    public var requestID: String?

    /// An error from its parts.
    public init(service: String, status: Int, code: String, message: String, requestID: String? = nil) {
        self.service = service
        self.status = status
        self.code = code
        self.message = message
        self.requestID = requestID
    }

    public var description: String {
        var text = "\(service) \(code) (HTTP \(status))"
        if !message.isEmpty { text += ": \(message)" }
        if let requestID { text += " [request id \(requestID)]" }
        return text
    }

    /// The error a response carries.
    public init(service: String, status: Int, headers: [AWSHeader], body: [UInt8]) {
        func header(_ name: String) -> String? {
            headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
        }
        var code: String?
        var message: String?
        var requestID = header("x-amz-request-id") ?? header("x-amzn-RequestId")
        if let type = header("x-amzn-ErrorType"), !type.isEmpty { code = Self.shortCode(type) }

        let text = String(decoding: body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if text.hasPrefix("<") {
            code = code ?? Self.element("Code", in: text)
            message = Self.element("Message", in: text)
            requestID = requestID ?? Self.element("RequestId", in: text)
        } else if text.hasPrefix("{"),
            let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
        {
            code =
                code
                ?? (object["__type"] as? String ?? object["code"] as? String ?? object["Code"] as? String)
                .map(Self.shortCode)
            message = object["message"] as? String ?? object["Message"] as? String ?? object["errorMessage"] as? String
        }
        var fullMessage = message ?? (text.isEmpty ? Self.reason(status) : String(text.prefix(512)))
        // S3 names the bucket's region when the request went to the wrong one (301 PermanentRedirect, 400…).
        if let region = header("x-amz-bucket-region"), !region.isEmpty {
            fullMessage += " (the bucket is in \(region))"
        }
        self.init(
            service: service,
            status: status,
            code: code ?? String(status),
            message: fullMessage,
            requestID: requestID
        )
    }

    /// `com.amazonaws.sagemaker#ResourceNotFound` and `ValidationException:http://internal.amazon.com/…` both
    /// name their error by the part botocore keeps.
    private static func shortCode(_ type: String) -> String {
        var code = Substring(type)
        if let colon = code.firstIndex(of: ":") { code = code[..<colon] }
        if let hash = code.lastIndex(of: "#") { code = code[code.index(after: hash)...] }
        return String(code)
    }

    /// The text of the first `<name>…</name>`, unescaped; enough for AWS's flat error documents.
    private static func element(_ name: String, in xml: String) -> String? {
        guard let open = xml.range(of: "<\(name)>"),
            let close = xml.range(of: "</\(name)>", range: open.upperBound..<xml.endIndex)
        else { return nil }
        return xml[open.upperBound..<close.lowerBound]
            .replacingOccurrences(of: "&lt;", with: "<")
            .replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"")
            .replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }

    private static func reason(_ status: Int) -> String {
        switch status {
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 409: "Conflict"
        case 412: "Precondition Failed"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 503: "Service Unavailable"
        default: "HTTP \(status)"
        }
    }
}
