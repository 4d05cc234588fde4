import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `GET /v1/logs/functions/NAME[?offset=N]` and `GET /v1/logs/system[?offset=N]`: a function's log, or the
/// daemon's, from byte `offset` (default 0) to its end, with the next offset in `X-Moss-Log-Offset`, so
/// `moss logs -f` can follow it by asking again. A log that rotated (it is bounded) is shorter than the offset: the
/// reply then starts over from its beginning.
struct LogRoutes: AdminRoutes {
    /// `DATA_DIR/logs/functions`.
    let functionLogs: String
    /// `DATA_DIR/logs/system.log`.
    let systemLog: String
    /// At most this much per reply; the client asks again from the returned offset.
    static let maximumChunk = 1 << 20

    func register(on v1: RouterGroup<BasicRequestContext>) {
        v1.get("logs/functions/:name") { request, context in
            let name = context.parameters.get("name") ?? ""
            guard !name.isEmpty, !name.contains("/"), !name.hasPrefix(".") else {
                throw AdminAPIError.badRequest("\"\(name)\" is not a function name")
            }
            return try Self.read(
                functionLogs + "/" + name + ".log",
                request: request,
                missing: "function \(name) has no log (not deployed, or it never ran)"
            )
        }
        v1.get("logs/system") { request, _ in
            try Self.read(systemLog, request: request, missing: "the daemon has no system log yet")
        }
    }

    private static func read(_ path: String, request: Request, missing: String) throws -> Response {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw AdminAPIError.notFound(missing) }
        defer { try? handle.close() }
        let size = try handle.seekToEnd()
        var offset = UInt64(request.uri.queryParameters.get("offset").flatMap { UInt64($0) } ?? 0)
        if offset > size { offset = 0 }
        try handle.seek(toOffset: offset)
        let data = try handle.read(upToCount: maximumChunk) ?? Data()
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/plain; charset=utf-8",
                HTTPField.Name("X-Moss-Log-Offset")!: "\(offset + UInt64(data.count))",
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data))
        )
    }
}
