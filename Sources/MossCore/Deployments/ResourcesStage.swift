import Logging
import MossAWS
import MossDeploy
import MossResources

/// Installs the group's machine learning resources (docs/resources.md). Prepare fetches and unpacks each changed
/// one into a new version directory beside the old (nothing visible changes); activate switches the `current`
/// links; discard removes the new directories. It runs before FunctionsStage, which mounts the prepared versions.
struct ResourcesStage: DeploymentStage {
    let catalog: ResourceCatalog
    let logger: Logger

    func prepare(_ group: GroupDefinition?) async throws -> any PreparedStage {
        try await prepare(group, offline: false)
    }

    /// At start, what is installed is used as it is: the gateway may be offline.
    func restore(_ group: GroupDefinition?) async throws -> any PreparedStage {
        try await prepare(group, offline: true)
    }

    private func prepare(
        _ group: GroupDefinition?,
        offline: Bool
    ) async throws(DeploymentStageError) -> any PreparedStage {
        var prepared: [PreparedResource] = []
        for resource in group?.resources ?? [] {
            guard case .machineLearningModel(let model) = resource.kind else { continue }
            do throws(ResourceError) {
                var owner: ResourceOwner?
                if let setting = model.ownerSetting {
                    owner = try ResourceOwner(
                        group: setting.groupOwner,
                        writable: setting.groupPermission == .readWrite
                    )
                }
                let request = ResourceRequest(
                    id: resource.id,
                    source: Self.source(model.source),
                    sha256: model.sha256,
                    owner: owner
                )
                prepared.append(try await catalog.installer.prepare(request, offline: offline))
            } catch {
                if offline {
                    // At start a missing model must not keep the gateway down: its functions run without it (their
                    // mount or link is absent) until the next deployment installs it.
                    logger.error(
                        "Resource not installed; its functions start without it",
                        metadata: ["resource.id": "\(resource.id)", "error": "\(error)"]
                    )
                    continue
                }
                for resource in prepared { catalog.installer.discard(resource) }
                throw DeploymentStageError(
                    code: error.code.rawValue,
                    message: "Resource \(resource.id) (\(model.source)): \(error.message)"
                )
            }
        }
        catalog.prepared(prepared)
        return Prepared(installer: catalog.installer, resources: prepared)
    }

    static func source(_ source: GroupDefinition.ModelSource) -> ResourceSource {
        switch source {
        case .s3(let bucket, let key): .s3(S3Location(bucket: bucket, key: key))
        case .sageMakerTrainingJob(let arn): .sageMakerTrainingJob(arn)
        case .https(let url): .https(url)
        case .file(let path): .file(path)
        }
    }

    private struct Prepared: PreparedStage {
        let installer: ResourceInstaller
        let resources: [PreparedResource]

        func activate() async {
            for resource in resources { installer.activate(resource) }
        }

        func discard() async {
            for resource in resources { installer.discard(resource) }
        }
    }
}
