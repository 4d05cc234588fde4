/// What the core tells a worker through its environment (greengrass-v1.md §3.2, docs/functions.md).
public struct FunctionEnvironment: Sendable, Hashable {
    /// How payloads travel: `json` (events are JSON text) or `binary` (bytes as they are).
    public enum Encoding: String, Sendable, Hashable {
        case json, binary
    }

    /// V1's defaults, used when a variable is absent.
    static let defaultPort = 8000
    static let defaultRouter = "arn:aws:lambda:::function:GGRouter"
    static let defaultShadowService = "arn:aws:lambda:::function:GGShadowService"
    static let defaultTimeout = Duration.seconds(3)

    /// `MY_FUNCTION_ARN`.
    public var functionARN: FunctionARN
    /// `AWS_CONTAINER_AUTHORIZATION_TOKEN`, sent raw in every request's `Authorization` header.
    public var token: String
    /// `GG_DAEMON_PORT` on 127.0.0.1.
    public var port: Int
    /// `ENCODING_TYPE`.
    public var encoding: Encoding
    /// `ROUTER_FUNCTION_ARN`: publishing is invoking it.
    public var routerARN: String
    /// `SHADOW_FUNCTION_ARN`: shadow calls are invoking it.
    public var shadowServiceARN: String
    /// `MOSS_FUNCTION_TIMEOUT_MS`: each invocation's time; the core, not the runtime, enforces it.
    public var timeout: Duration
    /// `AWS_IOT_THING_NAME`: the core's thing.
    public var coreThingName: String?
    /// `AWS_REGION`.
    public var region: String?

    /// Reads `environment`; the error names the first variable that is missing or wrong.
    public init(_ environment: [String: String]) throws(FunctionEnvironmentError) {
        guard let arnText = environment["MY_FUNCTION_ARN"], !arnText.isEmpty else {
            throw FunctionEnvironmentError(variable: "MY_FUNCTION_ARN", problem: "is not set")
        }
        guard let arn = FunctionARN(arnText) else {
            throw FunctionEnvironmentError(variable: "MY_FUNCTION_ARN", problem: "is not a function ARN: \(arnText)")
        }
        guard let token = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"], !token.isEmpty else {
            throw FunctionEnvironmentError(variable: "AWS_CONTAINER_AUTHORIZATION_TOKEN", problem: "is not set")
        }
        var port = Self.defaultPort
        if let text = environment["GG_DAEMON_PORT"], !text.isEmpty {
            guard let value = Int(text), (1...65535).contains(value) else {
                throw FunctionEnvironmentError(variable: "GG_DAEMON_PORT", problem: "is not a port number: \(text)")
            }
            port = value
        }
        let encodingText = environment["ENCODING_TYPE"] ?? ""
        guard let encoding = Encoding(rawValue: encodingText) else {
            throw FunctionEnvironmentError(
                variable: "ENCODING_TYPE",
                problem: "must be \"json\" or \"binary\", not \"\(encodingText)\""
            )
        }
        // As the Python runtime: a timeout that is not a number falls back to V1's default.
        var timeout = Self.defaultTimeout
        if let text = environment["MOSS_FUNCTION_TIMEOUT_MS"], let milliseconds = Int(text) {
            timeout = .milliseconds(max(0, milliseconds))
        }
        self.functionARN = arn
        self.token = token
        self.port = port
        self.encoding = encoding
        self.routerARN = environment["ROUTER_FUNCTION_ARN"].flatMap { $0.isEmpty ? nil : $0 } ?? Self.defaultRouter
        self.shadowServiceARN =
            environment["SHADOW_FUNCTION_ARN"].flatMap { $0.isEmpty ? nil : $0 } ?? Self.defaultShadowService
        self.timeout = timeout
        self.coreThingName = environment["AWS_IOT_THING_NAME"]
        self.region = environment["AWS_REGION"]
    }
}

/// A variable the runtime needs is missing or malformed.
public struct FunctionEnvironmentError: Error, Sendable, Hashable, CustomStringConvertible {
    public var variable: String
    public var problem: String

    public var description: String { "\(variable) \(problem)" }
}
