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
        // Probe first: HTTPClient retries a refused connection until its deadline, which would make
        // "not running" take seconds to say.
        if let reason = UnixSocketProbe.connectionFailure(path: socketPath) {
            throw .notRunning(socketPath: socketPath, reason: reason)
        }
        guard let url = URL(httpURLWithSocketPath: socketPath, uri: path) else {
            throw .badReply("cannot build a URL for \(socketPath)")
        }
        let status: Int
        let body: ByteBuffer
        do {
            let response = try await HTTPClient.shared.execute(
                HTTPClientRequest(url: url.absoluteString),
                timeout: .seconds(10)
            )
            status = Int(response.status.code)
            body = try await response.body.collect(upTo: 64 << 20)
        } catch {
            // A socket file left by a daemon that died, or a daemon shutting down: either way, not running.
            throw .notRunning(socketPath: socketPath, reason: "\(error)")
        }
        let data = Data(body.readableBytesView)
        guard status == 200 else {
            if let reply = try? JSONDecoder().decode(AdminErrorBody.self, from: data) {
                throw .server(status: status, code: reply.error.code, message: reply.error.message)
            }
            throw .server(status: status, code: "http_\(status)", message: String(decoding: data, as: UTF8.self))
        }
        do {
            return try JSONDecoder().decode(Reply.self, from: data)
        } catch {
            throw .badReply("\(path): \(error)")
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

    public var description: String {
        switch self {
        case .notRunning(let socketPath, let reason):
            "Moss is not running: cannot reach its admin socket \(socketPath) (\(reason)). "
                + "Start it with `moss run`, or point --data-dir / MOSS_DATA_DIR at its data directory."
        case .server(let status, let code, let message):
            "Moss answered with an error: \(message) (\(code), HTTP \(status))"
        case .badReply(let detail):
            "Moss sent a reply this client does not understand: \(detail)"
        }
    }
}
