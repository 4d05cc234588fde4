import Foundation
import Hummingbird

/// Deployments on the admin API:
///
/// - `POST /v1/deployments` `{"file": "/abs/group.yaml"}`: validate, stage, switch; replies with the deployment
///   (its `status` says whether it succeeded, its `errorDetails` why not);
/// - `GET /v1/deployments`: the history, oldest first;
/// - `POST /v1/deployments/rollback` `{"id": "…"}` (or `{}` for the previous successful group);
/// - `POST /v1/deployments/reset`: no group, no shadows.
struct DeploymentRoutes: AdminRoutes {
    let manager: DeploymentManager

    private struct DeployRequest: Decodable {
        var file: String
    }

    private struct RollbackRequest: Decodable {
        var id: String?
    }

    struct History: Codable, Sendable {
        var deployments: [DeploymentRecord]
    }

    func register(on v1: RouterGroup<BasicRequestContext>) {
        v1.post("deployments") { request, _ in
            let body: DeployRequest = try await Self.decode(request)
            guard body.file.hasPrefix("/") else {
                throw AdminAPIError.badRequest("\"file\" must be an absolute path, got \"\(body.file)\"")
            }
            return try AdminJSON.response(await manager.deploy(file: body.file))
        }
        v1.get("deployments") { _, _ in
            try AdminJSON.response(History(deployments: try await manager.history()))
        }
        v1.post("deployments/rollback") { request, _ in
            let body: RollbackRequest = try await Self.decode(request)
            return try AdminJSON.response(await manager.rollback(to: body.id))
        }
        v1.post("deployments/reset") { _, _ in
            try AdminJSON.response(await manager.reset())
        }
    }

    private static func decode<Body: Decodable>(_ request: Request) async throws -> Body {
        let buffer = try await request.body.collect(upTo: 64 * 1024)
        do {
            return try JSONDecoder().decode(Body.self, from: Data(buffer.readableBytesView))
        } catch {
            throw AdminAPIError.badRequest("the request body is not the JSON this route expects: \(error)")
        }
    }
}
