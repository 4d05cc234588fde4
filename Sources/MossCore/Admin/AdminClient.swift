import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Talks to a running daemon's admin API over `DATA_DIR/moss.sock`; every client command uses it.
public struct AdminClient: Sendable {
    public let socketPath: String

    public init(dataDirectory: String) {
        self.socketPath = DataDirectory(path: dataDirectory).adminSocket
    }

    /// `GET /v1/status`.
    public func status() async throws(AdminClientError) -> AdminStatus {
        try await get("/v1/status")
    }

    /// GETs `path` and decodes the JSON reply; API errors come back as ``AdminClientError/server(status:code:message:)``.
    func get<Reply: Decodable>(_ path: String) async throws(AdminClientError) -> Reply {
        let (status, body) = try await send(.GET, path)
        let data = Data(body)
        guard status == 200 else { throw Self.serverError(status: status, body: body) }
        do {
            return try JSONDecoder().decode(Reply.self, from: data)
        } catch {
            throw .badReply("\(path): \(error)")
        }
    }

    /// The error an API reply with a failure status stands for (`{"error": {...}}`, or its raw text).
    static func serverError(status: Int, body: [UInt8]) -> AdminClientError {
        if let reply = try? JSONDecoder().decode(AdminErrorBody.self, from: Data(body)) {
            return .server(status: status, code: reply.error.code, message: reply.error.message)
        }
        return .server(status: status, code: "http_\(status)", message: String(decoding: body, as: UTF8.self))
    }

    /// Sends one request and returns the status and body, whatever the status.
    func send(_ method: HTTPMethod, _ path: String, body: [UInt8]? = nil) async throws(AdminClientError) -> (Int, [UInt8]) {
        let (status, reply, _) = try await sendWithHeaders(method, path, body: body)
        return (status, reply)
    }

    /// ``send(_:_:body:)`` with the reply's headers (first value of each name).
    func sendWithHeaders(_ method: HTTPMethod, _ path: String, body: [UInt8]? = nil) async throws(AdminClientError)
        -> (Int, [UInt8], [String: String])
    {
        // Probe first: HTTPClient retries a refused connection until its deadline, which would make
        // "not running" take seconds to say.
        if let reason = UnixSocketProbe.connectionFailure(path: socketPath) {
            throw .notRunning(socketPath: socketPath, reason: reason)
        }
        guard let url = URL(httpURLWithSocketPath: socketPath, uri: path) else {
            throw .badReply("cannot build a URL for \(socketPath)")
        }
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            let collected = try await response.body.collect(upTo: 64 << 20)
            var headers: [String: String] = [:]
            for header in response.headers where headers[header.name] == nil { headers[header.name] = header.value }
            return (Int(response.status.code), Array(collected.readableBytesView), headers)
        } catch {
            // A socket file left by a daemon that died, or a daemon shutting down: either way, not running.
            throw .notRunning(socketPath: socketPath, reason: "\(error)")
        }
    }
}

/// Why a client command could not get its answer.
public enum AdminClientError: Error, Hashable, CustomStringConvertible {
    /// Nothing answers on the socket.
    case notRunning(socketPath: String, reason: String)
    /// The daemon answered with an error.
    case server(status: Int, code: String, message: String)
    /// The daemon's reply was not what this client understands (a version mismatch?).
    case badReply(String)
    /// The shadow service refused the request with AWS's code and message (e.g. 404 No shadow exists …).
    case shadowRefused(code: Int, message: String)

    public var description: String {
        switch self {
        case .notRunning(let socketPath, let reason):
            "Moss is not running: cannot reach its admin socket \(socketPath) (\(reason)). "
                + "Start it with `moss run`, or point --data-dir / MOSS_DATA_DIR at its data directory."
        case .server(let status, let code, let message):
            "Moss answered with an error: \(message) (\(code), HTTP \(status))"
        case .badReply(let detail):
            "Moss sent a reply this client does not understand: \(detail)"
        case .shadowRefused(let code, let message):
            "The shadow service refused the request: \(code) \(message)"
        }
    }
}
