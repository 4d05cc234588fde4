/// The rules for pipelines that need the rest of the group: unique ids, things and resources that exist, and
/// subscriptions that can reach them.
extension GroupReader {
    func checkPipelines(_ group: GroupDefinition) {
        var ids: [String: String] = [:]
        let things = Set([group.core.thingName] + group.devices.map(\.thingName))
        for (index, pipeline) in group.pipelines.enumerated() {
            let path = "pipelines[\(index)]"
            unique(pipeline.id, at: path + ".id", in: &ids, what: "pipeline id")
            if let thing = pipeline.input.shadow {
                checkThing(thing, at: path + ".input.shadow", things: things, group)
            }
            if let thing = pipeline.output.shadow {
                checkThing(thing, at: path + ".output.shadow", things: things, group)
            }
            for (position, reference) in pipeline.models.enumerated() {
                checkModel(reference, at: "\(path).models[\(position)]", group)
            }
        }
    }

    private func checkThing(_ thing: String, at path: String, things: Set<String>, _ group: GroupDefinition) {
        guard usable(path, thing), !things.contains(thing) else { return }
        let names = [group.core.thingName] + group.devices.map(\.thingName)
        error(at: path, "\(quoted(thing)) is not a thing of this group (the core or a device); things: \(listing(names))")
    }

    private func checkModel(_ reference: String, at path: String, _ group: GroupDefinition) {
        guard usable(path, reference) else { return }
        let matches = group.resources.filter { $0.id == reference || $0.name == reference }
        let models = group.resources.filter {
            if case .machineLearningModel = $0.kind { true } else { false }
        }
        guard let resource = matches.first else {
            error(
                at: path,
                "\(quoted(reference)) names no resource of this group; machine learning resources: \(listing(models.map(\.name)))"
            )
            return
        }
        guard case .machineLearningModel = resource.kind else {
            error(at: path, "\(quoted(reference)) is not a machineLearningModel resource; a pipeline runs models")
            return
        }
        if Set(matches.map(\.id)).count > 1 {
            error(at: path, "\(quoted(reference)) is the id or name of more than one resource; use the resource's id")
        }
    }

    /// A pipeline that reads a shadow takes no messages, and one that writes a shadow publishes none.
    func checkPipelineEnds(_ subscription: Subscription, at path: String, _ group: GroupDefinition) {
        if case .pipeline(let id) = subscription.target,
            let pipeline = group.pipelines.first(where: { $0.id == id }), let thing = pipeline.input.shadow
        {
            error(
                at: path + ".target",
                "pipeline \(quoted(id)) reads the shadow of \(quoted(thing)), not messages; nothing would take these"
            )
        }
        if case .pipeline(let id) = subscription.source,
            let pipeline = group.pipelines.first(where: { $0.id == id }), let thing = pipeline.output.shadow
        {
            warning(
                at: path + ".source",
                "pipeline \(quoted(id)) writes the shadow of \(quoted(thing)) and publishes nothing; this route carries no messages"
            )
        }
    }
}
