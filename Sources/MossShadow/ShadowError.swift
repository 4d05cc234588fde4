/// A refused shadow request: AWS's HTTP status code and message text (spec §8), copied verbatim,
/// typos included, because device code matches on them.
public struct ShadowError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: Int
    public var message: String

    public init(code: Int, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code) \(message)" }

    /// The exception name AWS's REST API sends in `x-amzn-ErrorType` (botocore reads it first).
    public var errorType: String {
        switch code {
        case 400: "InvalidRequestException"
        case 401: "UnauthorizedException"
        case 403: "ForbiddenException"
        case 404: "ResourceNotFoundException"
        case 405: "MethodNotAllowedException"
        case 409: "ConflictException"
        case 413: "RequestEntityTooLargeException"
        case 415: "UnsupportedDocumentEncodingException"
        case 429: "ThrottlingException"
        case 503: "ServiceUnavailableException"
        default: "InternalFailureException"
        }
    }

    /// Whether the real service puts a `timestamp` in this error document (it omits it on 404 and 409).
    var carriesTimestamp: Bool { code != 404 && code != 409 }

    public static func invalidJSON(_ detail: String? = nil) -> Self {
        Self(code: 400, message: detail.map { "Invalid JSON: \($0)" } ?? "Invalid JSON")
    }
    public static let missingState = Self(code: 400, message: "Missing required node: state")
    public static let stateNotObject = Self(code: 400, message: "State node must be an object")
    public static let desiredNotObject = Self(code: 400, message: "Desired node must be an object")
    public static let reportedNotObject = Self(code: 400, message: "Reported node must be an object")
    public static let invalidVersion = Self(code: 400, message: "Invalid version")
    public static let invalidClientToken = Self(code: 400, message: "Invalid clientToken")
    public static func tooDeep(maximum: Int) -> Self {
        Self(code: 400, message: "JSON contains too many levels of nesting; maximum is \(maximum)")
    }
    public static func invalidStateNode(_ key: String) -> Self {
        Self(code: 400, message: "State contains an invalid node: '\(key)'")
    }
    public static func invalidName(_ detail: String) -> Self { Self(code: 400, message: detail) }
    public static func notFound(_ name: String) -> Self {
        Self(code: 404, message: "No shadow exists with name: '\(name)'")
    }
    public static let versionConflict = Self(code: 409, message: "Version conflict")
    public static let payloadTooLarge = Self(code: 413, message: "The payload exceeds the maximum size allowed")
    public static let unsupportedEncoding = Self(
        code: 415,
        message: "Unsupported documented encoding; supported encoding is UTF-8"
    )
    public static let tooManyRequests = Self(code: 429, message: "Too Many Requests")
    public static let internalFailure = Self(code: 500, message: "Internal service failure")
}
