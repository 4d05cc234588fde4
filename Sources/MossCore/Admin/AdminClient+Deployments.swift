import Foundation
import NIOHTTP1

/// The deployment commands' side of ``DeploymentRoutes``.
extension AdminClient {
    public func deploy(file: String) async throws(AdminClientError) -> DeploymentRecord {
        try await post("/v1/deployments", ["file": file])
    }

    public func rollback(to id: String?) async throws(AdminClientError) -> DeploymentRecord {
        try await post("/v1/deployments/rollback", id.map { ["id": $0] } ?? [:])
    }

    public func reset() async throws(AdminClientError) -> DeploymentRecord {
        try await post("/v1/deployments/reset", [:])
    }

    public func deployments() async throws(AdminClientError) -> [DeploymentRecord] {
        let history: DeploymentRoutes.History = try await get("/v1/deployments")
        return history.deployments
    }

    private func post(_ path: String, _ body: [String: String]) async throws(AdminClientError) -> DeploymentRecord {
        let encoded: Data
        do {
            encoded = try JSONEncoder().encode(body)
        } catch {
            throw .badReply("cannot encode the request: \(error)")
        }
        let (status, reply) = try await send(.POST, path, body: Array(encoded))
        guard status == 200 else { throw Self.serverError(status: status, body: reply) }
        do {
            return try JSONDecoder().decode(DeploymentRecord.self, from: Data(reply))
        } catch {
            throw .badReply("\(path): \(error)")
        }
    }
}
