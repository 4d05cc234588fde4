import NIOCore
import NIOHTTP1

/// One HTTP request to the core's IPC server.
struct IPCRequest: Sendable {
    var method: HTTPMethod
    var path: String
    var headers: [(String, String)]
    var body: [UInt8]?
}

/// The core's answer: status, headers (looked up case-insensitively) and the whole body.
struct IPCResponse: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]
    /// The server will keep the connection open for the next request.
    var keepAlive: Bool

    func header(_ name: String) -> String? { headers.first(name: name) }
}

/// A request travelling down the pipeline with the promise its response fulfils.
struct IPCExchange: Sendable {
    var request: IPCRequest
    var response: EventLoopPromise<IPCResponse>
}

/// The connection broke, or was closed, before the whole response arrived.
struct IPCConnectionClosed: Error, CustomStringConvertible {
    var description: String { "the connection to the core closed before the response was complete" }
}

/// Turns one `IPCExchange` at a time into an HTTP/1.1 request and the response back into an `IPCResponse`.
/// The connection pool never sends a second exchange before the first one's response completed.
final class IPCChannelHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = IPCExchange
    typealias OutboundOut = HTTPClientRequestPart

    private let host: String
    private var pending: EventLoopPromise<IPCResponse>?
    private var head: HTTPResponseHead?
    private var body: ByteBuffer?

    init(host: String) {
        self.host = host
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let exchange = unwrapOutboundIn(data)
        pending = exchange.response
        var head = HTTPRequestHead(version: .http1_1, method: exchange.request.method, uri: exchange.request.path)
        head.headers.add(name: "Host", value: host)
        for (name, value) in exchange.request.headers { head.headers.add(name: name, value: value) }
        if let bytes = exchange.request.body {
            head.headers.add(name: "Content-Length", value: "\(bytes.count)")
        }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if let bytes = exchange.request.body, !bytes.isEmpty {
            context.write(
                wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: bytes)))),
                promise: nil
            )
        }
        context.write(wrapOutboundOut(.end(nil)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let value):
            head = value
            body = nil
        case .body(var part):
            if body == nil { body = part } else { body!.writeBuffer(&part) }
        case .end:
            guard let head, let promise = pending else { return }
            let bytes = body.map { Array($0.readableBytesView) } ?? []
            self.head = nil
            self.body = nil
            pending = nil
            promise.succeed(
                IPCResponse(
                    status: Int(head.status.code),
                    headers: head.headers,
                    body: bytes,
                    keepAlive: head.isKeepAlive
                )
            )
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failPending(IPCConnectionClosed())
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failPending(error)
        context.close(promise: nil)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        failPending(IPCConnectionClosed())
    }

    private func failPending(_ error: any Error) {
        pending?.fail(error)
        pending = nil
    }
}
