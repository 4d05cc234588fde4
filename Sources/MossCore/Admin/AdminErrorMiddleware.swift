import Foundation
import Hummingbird
import Logging

/// Turns every failure, including unknown routes, into `{"error": {"code": ..., "message": ...}}`
/// with a matching HTTP status, so clients never have to parse an empty or HTML body.
struct AdminErrorMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let logger: Logger

    func handle(
        _ request: Request,
        context: Context,
        // Hummingbird is built without NonisolatedNonsendingByDefault; match its requirement exactly.
        next: @concurrent (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as AdminAPIError {
            return try reply(error)
        } catch let error as HTTPError {
            if error.status == .notFound {
                return try reply(.notFound("no route for \(request.method) \(request.uri.path)"))
            }
            let code = error.status.reasonPhrase.lowercased().replacingOccurrences(of: " ", with: "_")
            return try reply(
                AdminAPIError(status: error.status.code, code: code, message: error.body ?? error.status.reasonPhrase)
            )
        } catch {
            logger.error(
                "Admin request failed",
                metadata: ["http.method": "\(request.method)", "http.path": "\(request.uri.path)", "error": "\(error)"]
            )
            return try reply(.internal("\(error)"))
        }
    }

    private func reply(_ error: AdminAPIError) throws -> Response {
        try AdminJSON.response(
            AdminErrorBody(error: .init(code: error.code, message: error.message)),
            status: HTTPResponse.Status(code: error.status)
        )
    }
}
