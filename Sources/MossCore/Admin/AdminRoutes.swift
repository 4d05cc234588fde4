import Foundation
import Hummingbird
import Logging
import NIOCore

/// A group of admin API routes under `/v1`. Each area registers its own (status now; later
/// `/v1/shadows/...`, `/v1/deployments`, …), so adding an area never touches the others.
protocol AdminRoutes: Sendable {
    func register(on v1: RouterGroup<BasicRequestContext>)
}

enum AdminRouter {
    /// The admin API: JSON error replies for everything, then every area's routes under `/v1`.
    static func make(routes: [any AdminRoutes], logger: Logger) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: AdminErrorMiddleware(logger: logger))
        let v1 = router.group("v1")
        for area in routes {
            area.register(on: v1)
        }
        return router
    }
}

/// Encodes admin API bodies the same way everywhere: sorted keys, so replies are stable and diffable.
enum AdminJSON {
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try encoder().encode(value)
        return Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data))
        )
    }
}
