import NIOHTTP1

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What a function asks of the core (greengrass-v1.md §3.4): publishing is an Event invocation of `GGRouter` with
/// the topic in the client context, shadow calls are RequestResponse invocations of `GGShadowService` with the
/// shadow topic as the subject, and invoking another function names its qualified ARN.
///
/// Safe to use from any task, concurrently; `FunctionRuntime` hands one to every handler in its context.
public struct FunctionClient: Sendable {
    /// How a publish behaves when the core's queue towards the cloud is full (greengrasssdk's `queueFullPolicy`).
    public enum QueueFullPolicy: String, Sendable {
        /// The core's default.
        case `default` = ""
        case bestEffort = "BestEffort"
        /// Refused publishes throw.
        case allOrError = "AllOrError"
    }

    public enum InvocationType: String, Sendable {
        /// Waits for the function's result.
        case requestResponse = "RequestResponse"
        /// Queues the invocation and returns at once.
        case event = "Event"
    }

    public let environment: FunctionEnvironment
    let transport: IPCTransport

    public init(environment: FunctionEnvironment) {
        self.environment = environment
        self.transport = IPCTransport(port: environment.port, token: environment.token)
    }

    /// A client for this process's environment: for code outside a handler (a pinned function's own loop).
    public init() throws(FunctionEnvironmentError) {
        self.init(environment: try FunctionEnvironment(ProcessInfo.processInfo.environment))
    }

    // MARK: Publish

    /// Publishes `payload` on `topic` through the core's router: subscribers get it only where a subscription
    /// from this function allows it.
    public func publish(topic: String, payload: [UInt8], queueFullPolicy: QueueFullPolicy = .default) async throws {
        let context = ClientContext(custom: [
            "source": .string(environment.functionARN.description),
            "subject": .string(topic),
            "queueFullPolicy": .string(queueFullPolicy.rawValue),
        ])
        // The router answers nothing to fetch: an Event invocation without a result, as the Python client.
        _ = try await post(environment.routerARN, payload: payload, type: .event, clientContext: context)
    }

    public func publish(topic: String, payload: String, queueFullPolicy: QueueFullPolicy = .default) async throws {
        try await publish(topic: topic, payload: Array(payload.utf8), queueFullPolicy: queueFullPolicy)
    }

    // MARK: Shadows

    /// The shadow document of `thingName` (its classic shadow, or the named shadow `shadowName`).
    /// Throws `ShadowError` with AWS's code and message (404 when there is no shadow).
    public func getThingShadow(thingName: String, shadowName: String? = nil) async throws -> [UInt8] {
        try await shadow(.get, thingName: thingName, shadowName: shadowName, payload: [])
    }

    /// Applies the update document `payload` and returns the accepted document; throws `ShadowError`.
    public func updateThingShadow(
        thingName: String,
        shadowName: String? = nil,
        payload: [UInt8]
    ) async throws -> [UInt8] {
        try await shadow(.update, thingName: thingName, shadowName: shadowName, payload: payload)
    }

    public func updateThingShadow(
        thingName: String,
        shadowName: String? = nil,
        payload: String
    ) async throws -> [UInt8] {
        try await updateThingShadow(thingName: thingName, shadowName: shadowName, payload: Array(payload.utf8))
    }

    /// Deletes the shadow and returns the accepted document; throws `ShadowError` (404 when there is none).
    public func deleteThingShadow(thingName: String, shadowName: String? = nil) async throws -> [UInt8] {
        try await shadow(.delete, thingName: thingName, shadowName: shadowName, payload: [])
    }

    private enum ShadowOperation: String {
        case get, update, delete
    }

    private func shadow(
        _ operation: ShadowOperation,
        thingName: String,
        shadowName: String?,
        payload: [UInt8]
    ) async throws -> [UInt8] {
        let prefix =
            shadowName.map { "$aws/things/\(thingName)/shadow/name/\($0)" } ?? "$aws/things/\(thingName)/shadow"
        let context = ClientContext(custom: ["subject": .string("\(prefix)/\(operation.rawValue)")])
        let reply = try await invoke(
            functionARN: environment.shadowServiceARN,
            payload: payload,
            invocationType: .requestResponse,
            clientContext: context
        )
        if let error = ShadowError(reply: reply) { throw error }
        return reply
    }

    // MARK: Invoke

    /// Invokes the function `functionARN` (qualified: `arn:aws:lambda:REGION:ACCOUNT:function:NAME:VERSION`).
    /// RequestResponse returns its result, or throws `FunctionInvocationError` when it failed (`Handled`: its
    /// handler threw; `Unhandled`: the core stopped it); Event returns an empty payload once the core queued it.
    public func invoke(
        functionARN: String,
        payload: [UInt8] = [],
        invocationType: InvocationType = .requestResponse,
        clientContext: ClientContext = ClientContext()
    ) async throws -> [UInt8] {
        let id = try await post(functionARN, payload: payload, type: invocationType, clientContext: clientContext)
        guard invocationType == .requestResponse else { return [] }
        guard let id else {
            throw IPCError(
                status: nil,
                message: "the core answered without an X-Amz-InvocationId",
                method: "POST",
                path: IPCTransport.functionsPath(functionARN)
            )
        }
        let response = try await transport.call(
            .GET,
            IPCTransport.functionsPath(functionARN),
            headers: [("X-Amz-InvocationId", id)]
        )
        let functionError = response.header("X-Amz-Function-Error") ?? ""
        guard functionError.isEmpty else {
            throw FunctionInvocationError(kind: functionError, payload: response.body)
        }
        return response.body
    }

    /// Row 1 of the protocol: the invocation id the core assigned.
    private func post(
        _ arn: String,
        payload: [UInt8],
        type: InvocationType,
        clientContext: ClientContext
    ) async throws(IPCError) -> String? {
        let response = try await transport.call(
            .POST,
            IPCTransport.functionsPath(arn),
            headers: [
                ("X-Amz-Client-Context", clientContext.headerValue),
                ("X-Amz-Invocation-Type", type.rawValue),
                ("Content-Type", "application/octet-stream"),
            ],
            body: payload
        )
        return response.header("X-Amz-InvocationId")
    }
}
