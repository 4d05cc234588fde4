import MossMQTT
import Yams

extension GroupReader {
    func readPipeline(_ field: Field) -> GroupDefinition.Pipeline {
        var pipeline = GroupDefinition.Pipeline(
            id: "",
            input: .init(fields: []),
            models: [],
            output: .init(field: "")
        )
        let required = ["id", "input", "models", "output"]
        guard let fields = mapping(field, keys: GroupKeys.pipeline, required: required) else { return pipeline }
        if let value = fields["id"] { pipeline.id = name(value, .v1("pipeline id")) ?? "" }
        if let value = fields["input"] { pipeline.input = readPipelineInput(value) }
        if let value = fields["models"] {
            let elements = list(value, of: "machine learning resource ids or names") ?? []
            pipeline.models = elements.compactMap { string($0) }
            if elements.isEmpty { error(value, "needs at least one machine learning resource") }
        }
        if let value = fields["threshold"] { pipeline.threshold = number(value, in: -1e30...1e30) }
        if let value = fields["output"] { pipeline.output = readPipelineOutput(value) }
        if let value = fields["every"] {
            pipeline.every = number(value, in: GroupDefinition.Pipeline.minimumInterval...86_400, unit: "seconds")
            if pipeline.input.shadow == nil, fields["input"] != nil {
                error(value, "applies to a pipeline that reads a shadow; one that takes messages runs on each message")
            }
        } else if pipeline.input.shadow != nil {
            pipeline.every = GroupDefinition.Pipeline.defaultInterval
        }
        return pipeline
    }

    private func readPipelineInput(_ field: Field) -> GroupDefinition.PipelineInput {
        var input = GroupDefinition.PipelineInput(fields: [])
        guard let fields = mapping(field, keys: GroupKeys.pipelineInput, required: ["fields"]) else { return input }
        if let value = fields["shadow"] { input.shadow = name(value, .v1("thing name")) }
        if let value = fields["fields"] {
            let elements = list(value, of: "field names") ?? []
            input.fields = elements.compactMap { string($0) }
            if elements.isEmpty { error(value, "needs at least one field name") }
            var seen: Set<String> = []
            for (element, name) in zip(elements, elements.map { string($0) }) {
                guard let name else { continue }
                if !seen.insert(name).inserted { error(element, "\(quoted(name)) is listed twice") }
            }
        }
        return input
    }

    private func readPipelineOutput(_ field: Field) -> GroupDefinition.PipelineOutput {
        var output = GroupDefinition.PipelineOutput(field: "")
        guard let fields = mapping(field, keys: GroupKeys.pipelineOutput, required: ["field"]) else { return output }
        if let value = fields["shadow"] { output.shadow = name(value, .v1("thing name")) }
        if let value = fields["topic"], let topic = string(value) {
            output.topic = topic
            do {
                try MQTTTopic.validateName(topic)
            } catch {
                self.error(value, "\(quoted(topic)) is not a topic to publish on: \(error)")
            }
        }
        switch (fields["shadow"], fields["topic"]) {
        case (nil, nil): error(field, "needs shadow (a thing whose reported state gets the result) or topic")
        case (.some, .some(let topic)): error(topic, "an output is either a shadow or a topic, not both")
        default: break
        }
        if let value = fields["field"] { output.field = string(value) ?? "" }
        if let value = fields["scoreField"] {
            output.scoreField = string(value)
            if let score = output.scoreField, score == output.field {
                error(value, "\(quoted(score)) is already the field; the score needs its own")
            }
        }
        return output
    }
}
