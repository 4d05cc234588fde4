import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// HTTP/1.1 to the core's IPC server on 127.0.0.1, over keep-alive connections: a warm invocation costs a
/// request on an open socket, not a TCP handshake per call as with the Python client's `Connection: close`.
/// Each request has a connection of its own for its duration (the long poll for work holds one while the
/// handler publishes on others); finished connections wait in a small idle pool.
final class IPCTransport: Sendable {
    /// One event loop is plenty for a function's few connections; it lives as long as the process.
    private static let eventLoops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private static let maximumIdle = 8
    /// The Python client's backoff for a core it cannot reach: 50 ms doubling to 2 s, 10 attempts.
    static let defaultRetryDelays: [Duration] = (0..<9).map { .milliseconds(min(50 << $0, 2000)) }

    let port: Int
    let token: String
    private let retryDelays: [Duration]
    private let idle = Mutex<[any Channel]>([])

    init(port: Int, token: String, retryDelays: [Duration] = IPCTransport.defaultRetryDelays) {
        self.port = port
        self.token = token
        self.retryDelays = retryDelays
    }

    deinit {
        for channel in idle.withLock({ $0 }) { channel.close(promise: nil) }
    }

    /// Sends a request and returns a 2xx response; any other status, or a core that stays unreachable through the
    /// retries, is an `IPCError`. A request whose connection breaks before the response is sent again (at least
    /// once, as the Python client), at once when it was a reused connection the server had closed.
    func call(
        _ method: HTTPMethod,
        _ path: String,
        headers: [(String, String)] = [],
        body: [UInt8]? = nil
    ) async throws(IPCError) -> IPCResponse {
        let request = IPCRequest(method: method, path: path, headers: [("Authorization", token)] + headers, body: body)
        var delays = retryDelays.makeIterator()
        while true {
            let outcome: Result<IPCResponse, any Error>
            var reused = false
            do {
                let (channel, wasIdle) = try await connection()
                reused = wasIdle
                outcome = .success(try await send(request, on: channel))
            } catch {
                outcome = .failure(error)
            }
            switch outcome {
            case .success(let response) where (200..<300).contains(response.status):
                return response
            case .success(let response):
                throw IPCError(
                    status: response.status,
                    message: Self.message(of: response),
                    method: "\(method)",
                    path: path
                )
            case .failure(let error):
                if Task.isCancelled {
                    throw IPCError(status: nil, message: "cancelled", method: "\(method)", path: path)
                }
                if reused { continue }
                guard let delay = delays.next() else {
                    throw IPCError(
                        status: nil,
                        message: "the core at 127.0.0.1:\(port) could not be reached (\(error))",
                        method: "\(method)",
                        path: path
                    )
                }
                do { try await Task.sleep(for: delay) } catch {
                    throw IPCError(status: nil, message: "cancelled", method: "\(method)", path: path)
                }
            }
        }
    }

    /// An idle connection that is still open, or a new one; `true` when it was reused.
    private func connection() async throws -> (any Channel, Bool) {
        while let channel = idle.withLock({ $0.popLast() }) {
            if channel.isActive { return (channel, true) }
        }
        let host = "127.0.0.1:\(port)"
        let channel = try await ClientBootstrap(group: Self.eventLoops)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(IPCChannelHandler(host: host))
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        return (channel, false)
    }

    /// One exchange on `channel`; the channel goes back to the pool when the server keeps it open.
    private func send(_ request: IPCRequest, on channel: any Channel) async throws -> IPCResponse {
        let promise = channel.eventLoop.makePromise(of: IPCResponse.self)
        // A write that fails never reaches the handler's promise bookkeeping; fail the response here too
        // (a promise completed twice keeps its first result).
        channel.writeAndFlush(IPCExchange(request: request, response: promise)).whenFailure { promise.fail($0) }
        let response: IPCResponse
        do {
            // No read timeout: the work poll waits as long as the core has nothing to do.
            response = try await withTaskCancellationHandler {
                try await promise.futureResult.get()
            } onCancel: {
                channel.close(promise: nil)
            }
        } catch {
            channel.close(promise: nil)
            throw error
        }
        if response.keepAlive {
            let kept = idle.withLock { idle in
                guard idle.count < Self.maximumIdle else { return false }
                idle.append(channel)
                return true
            }
            if !kept { channel.close(promise: nil) }
        } else {
            channel.close(promise: nil)
        }
        return response
    }

    /// The core's `{"message": ...}` error body, else the body as text.
    private static func message(of response: IPCResponse) -> String {
        struct Wire: Decodable { var message: String }
        if let wire = try? JSONDecoder().decode(Wire.self, from: Data(response.body)) { return wire.message }
        return response.body.isEmpty ? "(no body)" : String(decoding: response.body, as: UTF8.self)
    }
}

extension IPCTransport {
    /// `/2016-11-01/functions/ARN`, the ARN percent-encoded except for `:` and `$` (as the Python client).
    static func functionsPath(_ arn: String) -> String {
        var path = "/2016-11-01/functions/"
        for byte in arn.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: "~"), UInt8(ascii: ":"), UInt8(ascii: "$"):
                path.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                path += "%" + String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]], as: UTF8.self)
            }
        }
        return path
    }
}
