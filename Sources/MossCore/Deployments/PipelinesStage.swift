import MossDeploy

/// Loads the group's pipelines' models from the versions the resources stage prepared, and checks that each chain
/// runs (see ``PipelineChain``); a pipeline that cannot run fails the deployment, naming it. Activation replaces the
/// running pipelines.
struct PipelinesStage: DeploymentStage {
    let runner: PipelineRunner
    let resources: ResourceCatalog

    func prepare(_ group: GroupDefinition?) async throws -> any PreparedStage {
        guard let group else { return Prepared(runner: runner, pipelines: []) }
        var prepared: [PipelineRunner.Prepared] = []
        for pipeline in group.pipelines {
            var models: [(resource: String, directory: String)] = []
            for reference in pipeline.models {
                // The group file was checked: each reference names one machine learning resource.
                guard let resource = group.resources.first(where: { $0.id == reference || $0.name == reference }),
                    let directory = resources.preparedDirectory(of: resource.id)
                else {
                    throw DeploymentStageError(
                        code: "PipelineInvalid",
                        message: "Pipeline \(pipeline.id): the model \(reference) was not installed"
                    )
                }
                models.append((reference, directory))
            }
            do {
                let chain = try PipelineChain(models: models, inputCount: pipeline.input.fields.count, threshold: pipeline.threshold)
                prepared.append(.init(definition: pipeline, chain: chain))
            } catch {
                throw DeploymentStageError(code: "PipelineInvalid", message: "Pipeline \(pipeline.id): \(error.message)")
            }
        }
        return Prepared(runner: runner, pipelines: prepared)
    }

    private struct Prepared: PreparedStage {
        let runner: PipelineRunner
        let pipelines: [PipelineRunner.Prepared]

        func activate() async { runner.install(pipelines) }
        func discard() async {}
    }
}
