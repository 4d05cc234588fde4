import Foundation
import HTTPTypes
import Hummingbird
public import Logging
import NIOCore

/// What the IPC hands to the rest of Moss: publishes to `GGRouter` and calls to `GGShadowService`.
public struct FunctionEndpoints: Sendable {
    /// A function published `payload` on `topic` (`queueFullPolicy` as the SDK sent it); false refuses it
    /// (AllOrError with a full queue), which the SDK raises as an error.
    public var publish: @Sendable (_ functionARN: String, _ topic: String, _ payload: [UInt8], _ queueFullPolicy: String) -> Bool
    /// A shadow request on `subject` (`$aws/things/T/shadow/get|update|delete`); returns the accepted document or
    /// the error document, as the SDK expects them.
    public var shadow: @Sendable (_ subject: String, _ payload: [UInt8]) async -> [UInt8]
    /// V1's ML inference SDK: `service` is what follows `GG-ML-INF-` in the target ARN (`AlgoType-ServiceName`), the
    /// client context is the caller's (its custom holds `Content-Type` and `Accept`).
    public var inference: @Sendable (_ callerARN: String, _ service: String, _ body: [UInt8], _ clientContext: String) async -> InvocationResult

    public init(
        publish: @escaping @Sendable (String, String, [UInt8], String) -> Bool,
        shadow: @escaping @Sendable (String, [UInt8]) async -> [UInt8],
        inference: @escaping @Sendable (String, String, [UInt8], String) async -> InvocationResult = { _, service, _, _ in
            .unhandled("no inference service \(service) on this core")
        }
    ) {
        self.publish = publish
        self.shadow = shadow
        self.inference = inference
    }
}

/// The Greengrass V1 IPC (greengrass-v1.md §3.3): HTTP/1.1 on 127.0.0.1, API version 2016-11-01, every request
/// authorised by a worker's token. Functions invoke each other, publish through `GGRouter`, use the shadow service
/// through `GGShadowService`, and their workers fetch work and post results.
public struct IPCServer: Sendable {
    static let router = "arn:aws:lambda:::function:GGRouter"
    static let shadowService = "arn:aws:lambda:::function:GGShadowService"

    let host: FunctionHost
    let endpoints: FunctionEndpoints
    let logger: Logger

    public init(host: FunctionHost, endpoints: FunctionEndpoints, logger: Logger) {
        self.host = host
        self.endpoints = endpoints
        self.logger = logger
    }

    /// Serves on `127.0.0.1:port` (0: any free port) until cancelled or shut down; `bound` gets the real port.
    public func run(port: Int, bound: @escaping @Sendable (Int) async -> Void) async throws {
        let application = Application(
            router: makeRouter(),
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: port), serverName: nil),
            onServerRunning: { channel in await bound(channel.localAddress?.port ?? port) },
            logger: logger
        )
        try await application.run()
    }

    func makeRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        let functions = router.group("2016-11-01/functions")
        functions.post(":arn") { request, context in try await invoke(request, context) }
        functions.get(":arn") { request, context in try await result(request, context) }
        functions.get(":arn/work") { request, context in try await work(request, context) }
        functions.post(":arn/work") { request, context in try await postResult(request, context) }
        functions.put(":arn/initialized") { request, context in try await initialized(request, context) }
        router.get("2016-11-01/health/workers") { _, _ in await health(nil) }
        router.post("2016-11-01/health/workers") { request, _ in
            let body = try await request.body.collect(upTo: 1 << 20)
            let object = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any]
            guard let arns = object?["FuncArns"] as? [String] else {
                return Self.error(.badRequest, "expected {\"FuncArns\": [function ARNs]}")
            }
            return await health(arns)
        }
        return router
    }

    // MARK: Routes

    /// Row 1: invoke a function, or one of the core's own targets.
    private func invoke(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        guard let caller = await caller(of: request) else { return Self.unauthorized() }
        let target = context.parameters.get("arn") ?? ""
        let payload = Array(try await request.body.collect(upTo: 8 << 20).readableBytesView)
        let clientContext = request.headers[HTTPField.Name("X-Amz-Client-Context")!] ?? ""
        let custom = Self.custom(of: clientContext)
        switch target {
        case Self.router:
            let topic = custom["subject"] as? String ?? ""
            let policy = custom["queueFullPolicy"] as? String ?? ""
            guard !topic.isEmpty else { return Self.error(.badRequest, "publish without a topic (client context custom.subject)") }
            guard endpoints.publish(caller, topic, payload, policy) else {
                return Self.error(.serviceUnavailable, "the message to \(topic) could not be queued (queueFullPolicy \(policy))")
            }
            return Self.accepted(invocationID: UUID().uuidString.lowercased())
        case Self.shadowService:
            let subject = custom["subject"] as? String ?? ""
            let reply = await endpoints.shadow(subject, payload)
            let id = await host.completedInvocation(InvocationResult(payload: reply))
            return Self.accepted(invocationID: id)
        case _ where Self.inferenceService(of: target) != nil:
            let result = await endpoints.inference(caller, Self.inferenceService(of: target) ?? "", payload, clientContext)
            let id = await host.completedInvocation(result)
            return Self.accepted(invocationID: id)
        default:
            let kind = request.headers[HTTPField.Name("X-Amz-Invocation-Type")!] ?? "RequestResponse"
            do {
                let id = try await host.invoke(target, kind: kind, payload: payload, clientContext: clientContext)
                return Self.accepted(invocationID: id)
            } catch .unknownFunction {
                return Self.error(.notFound, "no function \(target) is deployed")
            } catch {
                return Self.error(.tooManyRequests, error.description)
            }
        }
    }

    /// Row 2: the caller's blocking wait for a result. `X-Amz-Function-Error` is always sent, empty on success:
    /// greengrasssdk's shadow calls treat a missing header as an error.
    private func result(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        guard await caller(of: request) != nil else { return Self.unauthorized() }
        guard let id = request.headers[HTTPField.Name("X-Amz-InvocationId")!] else {
            return Self.error(.badRequest, "X-Amz-InvocationId is missing")
        }
        let result = await host.result(of: id)
        var headers = HTTPFields()
        headers[HTTPField.Name("X-Amz-Function-Error")!] = result.functionError
        headers[.contentType] = "application/octet-stream"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: result.payload)))
    }

    /// Row 3: a worker's long poll for its next invocation.
    private func work(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        guard let token = Self.token(of: request), await host.function(ofToken: token) == context.parameters.get("arn")
        else { return Self.unauthorized() }
        guard let invocation = await host.nextWork(token: token) else {
            return Self.error(.serviceUnavailable, "this worker is being stopped")
        }
        var headers = HTTPFields()
        headers[HTTPField.Name("X-Amz-InvocationId")!] = invocation.id
        headers[HTTPField.Name("X-Amz-Client-Context")!] = invocation.clientContext
        headers[HTTPField.Name("X-Amz-Invocation-Type")!] = invocation.kind.rawValue
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: invocation.payload)))
    }

    /// Rows 4 and 5: a worker's result or handled error.
    private func postResult(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        guard let token = Self.token(of: request), await host.function(ofToken: token) == context.parameters.get("arn")
        else { return Self.unauthorized() }
        guard let id = request.headers[HTTPField.Name("X-Amz-InvocationId")!] else {
            return Self.error(.badRequest, "X-Amz-InvocationId is missing")
        }
        let payload = Array(try await request.body.collect(upTo: 8 << 20).readableBytesView)
        let functionError = request.headers[HTTPField.Name("X-Amz-Function-Error")!] ?? ""
        await host.postResult(token: token, invocationID: id, result: InvocationResult(functionError: functionError, payload: payload))
        return Response(status: .accepted)
    }

    /// Row 6: the runtime reports whether the handler module imported.
    private func initialized(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        guard let token = Self.token(of: request), await host.function(ofToken: token) == context.parameters.get("arn")
        else { return Self.unauthorized() }
        let body = try await request.body.collect(upTo: 1 << 20)
        let object = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any]
        await host.initialized(
            token: token,
            success: object?["Success"] as? Bool ?? false,
            response: object?["Response"] as? String ?? ""
        )
        return Response(status: .accepted)
    }

    /// V1's health API (1.11): GET lists every worker; POST `{"FuncArns": [...]}` answers `{Workers, InvalidArns}`.
    private func health(_ arns: [String]?) async -> Response {
        let (workers, invalid) = await host.health(of: arns)
        let list: [[String: Any]] = workers.map {
            ["FuncArn": $0.functionARN, "WorkerId": $0.workerID, "ProcessId": Int($0.processID), "WorkerState": $0.state]
        }
        let reply: Any = arns == nil ? list : ["Workers": list, "InvalidArns": invalid]
        let data = (try? JSONSerialization.data(withJSONObject: reply, options: [.sortedKeys])) ?? Data()
        return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    // MARK: Helpers

    private func caller(of request: Request) async -> String? {
        guard let token = Self.token(of: request) else { return nil }
        return await host.function(ofToken: token)
    }

    static func token(of request: Request) -> String? {
        request.headers[.authorization].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// `custom` of a base64 JSON client context (greengrass-v1.md §3.4).
    /// `AlgoType-ServiceName` of V1's inference service ARN `arn:aws:lambda:REGION:aws:function:GG-ML-INF-...`.
    public static func inferenceService(of target: String) -> String? {
        let parts = target.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 7, parts[0] == "arn", parts[2] == "lambda", parts[4] == "aws", parts[5] == "function",
            parts[6].hasPrefix("GG-ML-INF-")
        else { return nil }
        return String(parts[6].dropFirst("GG-ML-INF-".count))
    }

    public static func custom(of clientContext: String) -> [String: Any] {
        guard let data = Data(base64Encoded: clientContext),
            let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        else { return [:] }
        return object["custom"] as? [String: Any] ?? [:]
    }

    static func accepted(invocationID: String) -> Response {
        var headers = HTTPFields()
        headers[HTTPField.Name("X-Amz-InvocationId")!] = invocationID
        return Response(status: .accepted, headers: headers)
    }

    static func unauthorized() -> Response {
        error(.forbidden, "the Authorization token is not a worker's")
    }

    static func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        let body = (try? JSONSerialization.data(withJSONObject: ["message": message])) ?? Data()
        return Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body))
        )
    }
}
