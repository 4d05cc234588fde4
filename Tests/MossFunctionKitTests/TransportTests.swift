import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import Testing

@testable import MossFunctionKit

/// The IPC client against a small HTTP/1.1 server on 127.0.0.1 that counts its connections.
@Suite("the IPC transport") struct TransportTests {
    @Test func callsShareOneKeepAliveConnection() async throws {
        try await withServer { server in
            let transport = IPCTransport(port: server.port, token: "secret")
            for _ in 0..<20 {
                let response = try await transport.call(.GET, "/ok")
                #expect(response.status == 200 && response.body == Array("ok".utf8))
            }
            #expect(server.stats.connections.withLock { $0 } == 1)
            // The token travels raw, as the Python client sends it.
            #expect(server.stats.authorizations.withLock { Set($0) } == ["secret"])
        }
    }

    @Test func aConnectionTheServerClosesIsNotReused() async throws {
        try await withServer { server in
            let transport = IPCTransport(port: server.port, token: "t")
            for _ in 0..<3 {
                let response = try await transport.call(.POST, "/close", body: [1, 2, 3])
                #expect(response.status == 200 && !response.keepAlive)
            }
            #expect(server.stats.connections.withLock { $0 } == 3)
            // A keep-alive connection the server dropped while idle: the call goes out again on a new one.
            let dropped = try await transport.call(.GET, "/drop")
            let next = try await transport.call(.GET, "/ok")
            #expect(dropped.status == 200 && next.status == 200)
            #expect(server.stats.connections.withLock { $0 } == 5)
        }
    }

    @Test func aRefusalCarriesTheStatusAndTheCoresMessage() async throws {
        try await withServer { server in
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
        let port = try await withServer { $0.port }
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

/// What the test server saw.
final class ServerStats: Sendable {
    let connections = Mutex(0)
    let authorizations = Mutex<[String]>([])
}

struct TestServer: Sendable {
    let port: Int
    let stats: ServerStats
}

func withServer<T>(_ body: (TestServer) async throws -> T) async throws -> T {
    let stats = ServerStats()
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .childChannelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                stats.connections.withLock { $0 += 1 }
                try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                try channel.pipeline.syncOperations.addHandler(TestServerHandler(stats: stats))
            }
        }
        .bind(host: "127.0.0.1", port: 0)
        .get()
    let server = TestServer(port: channel.localAddress?.port ?? 0, stats: stats)
    do {
        let result = try await body(server)
        try await channel.close()
        return result
    } catch {
        try? await channel.close()
        throw error
    }
}

/// `/ok`: 200 keep-alive; `/close`: 200 with `Connection: close`; `/drop`: 200 keep-alive, then the server closes
/// the connection anyway; anything else: 404 with the core's JSON error body.
final class TestServerHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let stats: ServerStats
    private var uri = ""

    init(stats: ServerStats) {
        self.stats = stats
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            uri = head.uri
            stats.authorizations.withLock { $0.append(head.headers.first(name: "Authorization") ?? "") }
        case .body:
            break
        case .end:
            let known = ["/ok", "/close", "/drop"].contains(uri)
            let body = known ? "ok" : #"{"message":"no function f is deployed"}"#
            var headers = HTTPHeaders([("Content-Length", "\(body.utf8.count)")])
            if uri == "/close" { headers.add(name: "Connection", value: "close") }
            let head = HTTPResponseHead(version: .http1_1, status: known ? .ok : .notFound, headers: headers)
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            if uri == "/close" || uri == "/drop" { context.close(promise: nil) }
        }
    }
}
