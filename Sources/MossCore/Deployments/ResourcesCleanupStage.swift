import MossDeploy

/// Runs after FunctionsStage: once the functions use the new versions, the versions and NoContainer prefixes
/// nothing uses any more are removed.
struct ResourcesCleanupStage: DeploymentStage {
    let catalog: ResourceCatalog

    func prepare(_ group: GroupDefinition?) async throws -> any PreparedStage {
        Prepared(catalog: catalog)
    }

    private struct Prepared: PreparedStage {
        let catalog: ResourceCatalog

        func activate() async { catalog.removeUnused() }
        func discard() async {}
    }
}
