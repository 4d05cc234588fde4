import Foundation
import NIOHTTP1
import Synchronization
import Testing

@testable import MossFunctionKit

/// The runtime's conversation with a scripted core: what it reports, polls and posts, and when it stops.
@Suite("the runtime loop") struct RuntimeLoopTests {
    static let arn = "arn:aws:lambda:us-east-1:000000000000:function:f:1"
    static let functionPath = "/2016-11-01/functions/" + arn

    struct Reading: Decodable, Sendable {
        var temperature: Double
    }

    struct Unreadable: Error, CustomStringConvertible {
        var description: String { "the sensor is unreadable" }
    }

    /// A core that hands out one invocation, then answers the work poll with `afterwards`.
    final class Core: Sendable {
        let polls = Mutex(0)
        let afterwards: HTTPResponseStatus

        init(afterwards: HTTPResponseStatus) {
            self.afterwards = afterwards
        }

        func respond(_ request: RecordedRequest) -> CannedResponse {
            guard request.method == .GET, request.uri == RuntimeLoopTests.functionPath + "/work" else {
                return CannedResponse(status: .accepted)
            }
            guard
                polls.withLock({
                    $0 += 1
                    return $0
                }) == 1
            else {
                return CannedResponse(status: afterwards, body: #"{"message":"this worker is being stopped"}"#)
            }
            let context = Data(#"{"custom":{"subject":"in/a"}}"#.utf8).base64EncodedString()
            return CannedResponse(
                body: #"{"temperature": 21.5}"#,
                headers: [("X-Amz-InvocationId", "inv-1"), ("X-Amz-Client-Context", context)]
            )
        }
    }

    func loop(port: Int, handler: some FunctionHandler) throws -> RuntimeLoop {
        let environment = try FunctionEnvironment([
            "MY_FUNCTION_ARN": Self.arn,
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": "token",
            "GG_DAEMON_PORT": "\(port)",
            "ENCODING_TYPE": "binary",
        ])
        return RuntimeLoop(client: FunctionClient(environment: environment), handler: handler)
    }

    @Test func itReportsInitializedServesAnInvocationAndEndsWhenTheCoreStopsIt() async throws {
        let core = Core(afterwards: .serviceUnavailable)
        try await withServer(respond: core.respond) { server in
            let handler = JSONHandler { (reading: Reading, context: FunctionContext) in
                ["doubled": JSONValue.number(reading.temperature * 2), "subject": .string(context.subject ?? "")]
            }
            let status = try await loop(port: server.port, handler: handler).serve()
            #expect(status == 0)
            let requests = server.log.requests.withLock { $0 }
            #expect(
                requests.map { "\($0.method) \($0.uri)" } == [
                    "PUT \(Self.functionPath)/initialized",
                    "GET \(Self.functionPath)/work",
                    "POST \(Self.functionPath)/work",
                    "GET \(Self.functionPath)/work",
                ]
            )
            #expect(requests.allSatisfy { $0.headers.first(name: "Authorization") == "token" })
            let report = try JSONDecoder().decode([String: JSONValue].self, from: Data(requests[0].body))
            #expect(report == ["Success": .bool(true), "Response": .string("")])
            let result = requests[2]
            #expect(result.headers.first(name: "X-Amz-InvocationId") == "inv-1")
            #expect(result.headers.first(name: "X-Amz-Function-Error") == nil)
            let posted = try JSONDecoder().decode([String: JSONValue].self, from: Data(result.body))
            #expect(posted == ["doubled": .number(43), "subject": .string("in/a")])
            // All four calls went over one keep-alive connection.
            #expect(server.log.connections.withLock { $0 } == 1)
        }
    }

    @Test func aThrowingHandlerIsPostedAsHandledAndAnotherRefusalEndsWithFailure() async throws {
        let core = Core(afterwards: .forbidden)
        try await withServer(respond: core.respond) { server in
            let handler = JSONHandler { (_: Reading, _: FunctionContext) -> Double in throw Unreadable() }
            let status = try await loop(port: server.port, handler: handler).serve()
            #expect(status == 1)
            let posted = try #require(server.log.requests.withLock { $0.first { $0.method == .POST } })
            #expect(posted.headers.first(name: "X-Amz-Function-Error") == "Handled")
            #expect(posted.headers.first(name: "X-Amz-InvocationId") == "inv-1")
            let document = try JSONDecoder().decode([String: JSONValue].self, from: Data(posted.body))
            #expect(document["errorMessage"] == .string("the sensor is unreadable"))
            #expect(document["errorType"] == .string("Unreadable"))
            #expect(document["stackTrace"] == .array([]))
        }
    }
}
