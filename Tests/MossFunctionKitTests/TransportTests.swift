import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import Testing

@testable import MossFunctionKit

/// The IPC client against a small HTTP/1.1 server on 127.0.0.1 that counts its connections.
@Suite("the IPC transport") struct TransportTests {
    /// `/ok`: 200 keep-alive; `/close`: 200 with `Connection: close`; `/drop`: 200 keep-alive, then the server closes
    /// the connection anyway; anything else: 404 with the core's JSON error body.
    let cannedRoutes: @Sendable (RecordedRequest) -> CannedResponse = { request in
        switch request.uri {
        case "/ok": CannedResponse(body: "ok")
        case "/close": CannedResponse(body: "ok", headers: [("Connection", "close")], closeAfter: true)
        case "/drop": CannedResponse(body: "ok", closeAfter: true)
        default: CannedResponse(status: .notFound, body: #"{"message":"no function f is deployed"}"#)
        }
    }

    @Test func callsShareOneKeepAliveConnection() async throws {
        try await withServer(respond: cannedRoutes) { server in
            let transport = IPCTransport(port: server.port, token: "secret")
            for _ in 0..<20 {
                let response = try await transport.call(.GET, "/ok")
                #expect(response.status == 200 && response.body == Array("ok".utf8))
            }
            #expect(server.log.connections.withLock { $0 } == 1)
            // The token travels raw, as the Python client sends it.
            #expect(
                server.log.requests.withLock { Set($0.map { $0.headers.first(name: "Authorization") }) } == ["secret"]
            )
        }
    }

    @Test func aConnectionTheServerClosesIsNotReused() async throws {
        try await withServer(respond: cannedRoutes) { server in
            let transport = IPCTransport(port: server.port, token: "t")
            for _ in 0..<3 {
                let response = try await transport.call(.POST, "/close", body: [1, 2, 3])
                #expect(response.status == 200 && !response.keepAlive)
            }
            #expect(server.log.connections.withLock { $0 } == 3)
            // A keep-alive connection the server dropped while idle: the call goes out again on a new one.
            let dropped = try await transport.call(.GET, "/drop")
            let next = try await transport.call(.GET, "/ok")
            #expect(dropped.status == 200 && next.status == 200)
            #expect(server.log.connections.withLock { $0 } == 5)
        }
    }

    @Test func aRefusalCarriesTheStatusAndTheCoresMessage() async throws {
        try await withServer(respond: cannedRoutes) { server in
            let transport = IPCTransport(port: server.port, token: "t")
            do {
                _ = try await transport.call(.POST, "/missing")
                Issue.record("a 404 was taken for success")
            } catch let error as IPCError {
                #expect(error.status == 404)
                #expect(error.message == "no function f is deployed")
                #expect(error.description == "IPC POST /missing failed with HTTP 404: no function f is deployed")
            }
        }
    }

    @Test func anUnreachableCoreIsAnErrorAfterTheRetries() async throws {
        // A port that was free a moment ago: nothing listens there.
        let port = try await withServer(respond: cannedRoutes) { $0.port }
        let transport = IPCTransport(port: port, token: "t", retryDelays: [.milliseconds(1), .milliseconds(1)])
        do {
            _ = try await transport.call(.GET, "/ok")
            Issue.record("a call to a closed port succeeded")
        } catch {
            #expect(error.status == nil)
            #expect(error.message.contains("could not be reached"))
        }
    }
}
