import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `GET /v1/logs/functions/NAME[?offset=N]`: a function's log from byte `offset` (default 0) to its end, with the
/// next offset in `X-Moss-Log-Offset`, so `moss logs -f` can follow it by asking again.
struct LogRoutes: AdminRoutes {
    /// `DATA_DIR/logs/functions`.
    let functionLogs: String
    /// At most this much per reply; the client asks again from the returned offset.
    static let maximumChunk = 1 << 20

    func register(on v1: RouterGroup<BasicRequestContext>) {
        v1.get("logs/functions/:name") { request, context in
            let name = context.parameters.get("name") ?? ""
            guard !name.isEmpty, !name.contains("/"), !name.hasPrefix(".") else {
                throw AdminAPIError.badRequest("\"\(name)\" is not a function name")
            }
            let path = functionLogs + "/" + name + ".log"
            guard let handle = FileHandle(forReadingAtPath: path) else {
                throw AdminAPIError.notFound("function \(name) has no log (not deployed, or it never ran)")
            }
            defer { try? handle.close() }
            let size = try handle.seekToEnd()
            var offset = UInt64(request.uri.queryParameters.get("offset").flatMap { UInt64($0) } ?? 0)
            // A log that was removed and started again is shorter than the offset: start over.
            if offset > size { offset = 0 }
            try handle.seek(toOffset: offset)
            let data = try handle.read(upToCount: Self.maximumChunk) ?? Data()
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
}
