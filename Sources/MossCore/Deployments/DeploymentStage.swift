import MossDeploy

/// One part of the gateway a deployment changes (routing now; functions and resources in later issues).
///
/// A deployment prepares every stage first, without touching what runs; if any preparation fails, the prepared
/// ones are discarded and the previous group keeps running untouched. Only when all are prepared and the
/// deployment is recorded are they activated, one after another, with nothing left that can fail.
protocol DeploymentStage: Sendable {
    /// Prepares `group` (nil: a reset, no group). Throws a ``DeploymentStageError`` to fail the deployment.
    func prepare(_ group: GroupDefinition?) async throws -> any PreparedStage
    /// Prepares the recorded group again at start; a stage that would reach the network uses what it installed.
    func restore(_ group: GroupDefinition?) async throws -> any PreparedStage
}

extension DeploymentStage {
    func restore(_ group: GroupDefinition?) async throws -> any PreparedStage { try await prepare(group) }
}

protocol PreparedStage: Sendable {
    /// Puts the prepared state into effect. Must not fail.
    func activate() async
    /// Forgets the prepared state (another stage failed).
    func discard() async
}

/// Why a stage could not prepare a group: V1's DetailedErrorCode and a message.
struct DeploymentStageError: Error, CustomStringConvertible {
    var code: String
    var message: String

    var description: String { "\(code): \(message)" }
}
