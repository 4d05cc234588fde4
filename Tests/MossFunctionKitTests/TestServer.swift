import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A request as the test server received it.
struct RecordedRequest: Sendable {
    var method: HTTPMethod
    var uri: String
    var headers: HTTPHeaders
    var body: [UInt8]
}

/// What the test server answers.
struct CannedResponse: Sendable {
    var status: HTTPResponseStatus = .ok
    var body: String = ""
    var headers: [(String, String)] = []
    /// Close the connection after answering, whatever the headers say.
    var closeAfter = false
}

/// Everything the test server saw.
final class RequestLog: Sendable {
    let connections = Mutex(0)
    let requests = Mutex<[RecordedRequest]>([])
}

struct TestServer: Sendable {
    let port: Int
    let log: RequestLog
}

/// Runs `body` against an HTTP/1.1 server on 127.0.0.1 (a free port) that answers each request with `respond`.
func withServer<T>(
    respond: @escaping @Sendable (RecordedRequest) -> CannedResponse,
    _ body: (TestServer) async throws -> T
) async throws -> T {
    let log = RequestLog()
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .childChannelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                log.connections.withLock { $0 += 1 }
                try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                try channel.pipeline.syncOperations.addHandler(TestServerHandler(log: log, respond: respond))
            }
        }
        .bind(host: "127.0.0.1", port: 0)
        .get()
    let server = TestServer(port: channel.localAddress?.port ?? 0, log: log)
    do {
        let result = try await body(server)
        try await channel.close()
        return result
    } catch {
        try? await channel.close()
        throw error
    }
}

private final class TestServerHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let log: RequestLog
    let respond: @Sendable (RecordedRequest) -> CannedResponse
    private var request: RecordedRequest?

    init(log: RequestLog, respond: @escaping @Sendable (RecordedRequest) -> CannedResponse) {
        self.log = log
        self.respond = respond
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            request = RecordedRequest(method: head.method, uri: head.uri, headers: head.headers, body: [])
        case .body(let part):
            request?.body += Array(part.readableBytesView)
        case .end:
            guard let request else { return }
            self.request = nil
            log.requests.withLock { $0.append(request) }
            let response = respond(request)
            var headers = HTTPHeaders(response.headers)
            headers.add(name: "Content-Length", value: "\(response.body.utf8.count)")
            let head = HTTPResponseHead(version: .http1_1, status: response.status, headers: headers)
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: response.body)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            if response.closeAfter { context.close(promise: nil) }
        }
    }
}
