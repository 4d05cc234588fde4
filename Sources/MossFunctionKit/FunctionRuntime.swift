import NIOHTTP1

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The runtime of a Swift function, the counterpart of Moss's Python `lambda_runtime` (greengrass-v1.md §3.5):
/// reads the environment, reports `initialized`, long-polls for work, calls the handler, posts its result or its
/// error (`X-Amz-Function-Error: Handled`, `{"errorMessage", "errorType", "stackTrace"}`), one invocation at a time.
///
/// ```swift
/// @main struct Main {
///     static func main() async {
///         await FunctionRuntime.run { (reading: Reading, context: FunctionContext) in ... }
///     }
/// }
/// ```
public enum FunctionRuntime {
    /// Serves `handler` until the core stops the worker, then exits the process: 0 when the core asked (a 503 on
    /// the work poll, or SIGTERM), 1 when the environment is wrong or the core cannot be reached.
    public static func run(_ handler: some FunctionHandler) async -> Never {
        // As the Python runtime: SIGTERM, the core's way to stop a worker, is a clean exit.
        _ = signal(SIGTERM) { _ in _exit(0) }
        let environment: FunctionEnvironment
        do {
            environment = try FunctionEnvironment(ProcessInfo.processInfo.environment)
        } catch {
            log("ERROR", "Failed to initialize the function runtime: \(error)")
            await reportFailedInitialization(error)
            exit(1)
        }
        let loop = RuntimeLoop(client: FunctionClient(environment: environment), handler: handler)
        exit(await loop.serve())
    }

    /// Serves a JSON handler: `Event` decoded from each payload, `Output` encoded as the result.
    public static func run<Event: Decodable, Output: Encodable>(
        _ body: @escaping @Sendable (Event, FunctionContext) async throws -> Output
    ) async -> Never {
        await run(JSONHandler(body))
    }

    /// Serves a JSON handler with no result (posted as `null`).
    public static func run<Event: Decodable & SendableMetatype>(
        _ body: @escaping @Sendable (Event, FunctionContext) async throws -> Void
    ) async -> Never {
        await run(JSONHandler(body))
    }

    /// The environment is wrong: say so to the core where there is enough of it to reach the core.
    private static func reportFailedInitialization(_ error: FunctionEnvironmentError) async {
        let variables = ProcessInfo.processInfo.environment
        guard let arn = variables["MY_FUNCTION_ARN"], let token = variables["AWS_CONTAINER_AUTHORIZATION_TOKEN"],
            !arn.isEmpty, !token.isEmpty, let port = Int(variables["GG_DAEMON_PORT"] ?? "8000")
        else { return }
        let transport = IPCTransport(port: port, token: token)
        _ = try? await transport.call(
            .PUT,
            IPCTransport.functionsPath(arn) + "/initialized",
            headers: [("Content-Type", "application/json")],
            body: RuntimeLoop.initializationReport(success: false, response: "\(error)")
        )
    }

    /// One line on stderr, which the core writes to the function's log.
    static func log(_ level: String, _ message: String) {
        var line = "[\(level)] \(message)\n"
        line.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
    }
}

/// The loop itself, apart from the process: `serve()` returns the exit status instead of exiting.
struct RuntimeLoop: Sendable {
    let client: FunctionClient
    let handler: any FunctionHandler

    private var environment: FunctionEnvironment { client.environment }
    private var functionPath: String { IPCTransport.functionsPath(environment.functionARN.description) }

    /// Reports initialized, then serves invocations until the core stops this worker; returns the exit status.
    func serve() async -> Int32 {
        do {
            _ = try await client.transport.call(
                .PUT,
                functionPath + "/initialized",
                headers: [("Content-Type", "application/json")],
                body: Self.initializationReport(success: true, response: "")
            )
        } catch {
            FunctionRuntime.log("ERROR", "Failed to report initialization: \(error)")
            if error.status == nil { return 1 }
        }
        while true {
            let work: IPCResponse
            do {
                work = try await client.transport.call(.GET, functionPath + "/work")
            } catch {
                if error.status == 503 {
                    FunctionRuntime.log("INFO", "The core is stopping this worker: \(error.message)")
                    return 0
                }
                FunctionRuntime.log("ERROR", "Failed to get work: \(error)")
                return 1
            }
            // A 2xx without an invocation (e.g. 204) only ends this poll.
            guard let id = work.header("X-Amz-InvocationId"), !id.isEmpty else { continue }
            await handle(id: id, payload: work.body, clientContext: work.header("X-Amz-Client-Context") ?? "")
        }
    }

    /// Runs one invocation and posts its outcome; a failed post is logged, never fatal.
    func handle(id: String, payload: [UInt8], clientContext header: String) async {
        let deadline = ContinuousClock.now.advanced(by: environment.timeout)
        let clientContext: ClientContext
        do {
            clientContext = try ClientContext(headerValue: header)
        } catch {
            FunctionRuntime.log("WARN", "Invocation \(id): \(error); using an empty client context")
            clientContext = ClientContext()
        }
        let context = FunctionContext(
            functionARN: environment.functionARN,
            invocationID: id,
            clientContext: clientContext,
            deadline: deadline,
            client: client
        )
        let json = environment.encoding == .json
        var headers = [("X-Amz-InvocationId", id)]
        let body: [UInt8]
        do {
            let result = try await handler.handle(
                json && payload.isEmpty ? Array("{}".utf8) : payload,
                context: context
            )
            body = json && result.isEmpty ? Array("null".utf8) : result
            headers.append(("Content-Type", "application/octet-stream"))
        } catch {
            FunctionRuntime.log("ERROR", "Invocation \(id): the handler threw \(type(of: error)): \(error)")
            body = Self.errorDocument(error)
            headers += [("X-Amz-Function-Error", "Handled"), ("Content-Type", "application/json")]
        }
        do {
            _ = try await client.transport.call(.POST, functionPath + "/work", headers: headers, body: body)
        } catch {
            FunctionRuntime.log("ERROR", "Failed to post the outcome of invocation \(id): \(error)")
        }
    }

    /// `{"errorMessage", "errorType", "stackTrace"}` as the Python runtime posts it (Swift errors carry no trace).
    static func errorDocument(_ error: any Error) -> [UInt8] {
        struct Wire: Encodable {
            var errorMessage: String
            var errorType: String
            var stackTrace: [String]
        }
        let wire = Wire(errorMessage: "\(error)", errorType: "\(type(of: error))", stackTrace: [])
        return Array((try? JSONEncoder().encode(wire)) ?? Data(#"{"errorMessage":"unencodable error"}"#.utf8))
    }

    /// `{"Success": bool, "Response": text}`.
    static func initializationReport(success: Bool, response: String) -> [UInt8] {
        struct Wire: Encodable {
            var Success: Bool
            var Response: String
        }
        return Array((try? JSONEncoder().encode(Wire(Success: success, Response: response))) ?? Data())
    }
}
