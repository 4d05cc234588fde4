import MossDeploy
import Testing

/// A group with a device, a core, one ML model and one local volume, followed by `pipelines` (and `extra`).
private func withPipelines(_ pipelines: String, extra: String = "") -> String {
    """
    core:
      thingName: gw
    devices:
      - thingName: s
    resources:
      - id: m
        name: model
        machineLearningModel:
          source: models/m.zip
          destinationPath: /ml/m
      - id: v
        name: volume
        localVolume:
          sourcePath: /g/pkg
          destinationPath: /data
    pipelines:
    \(pipelines)
    \(extra)
    """
}

private let good = """
      - id: p
        input: {shadow: s, fields: [pressure, temperature]}
        models: [model]
        threshold: 0.5
        output: {shadow: s, field: rain_prediction, scoreField: rain_score}
    """

@Suite struct PipelineRuleTests {
    @Test func aPipelineIsReadWithItsDefaults() throws {
        let group = try parsed(withPipelines(good))
        let pipeline = try #require(group.pipelines.first)
        #expect(pipeline.id == "p")
        #expect(pipeline.input == .init(shadow: "s", fields: ["pressure", "temperature"]))
        #expect(pipeline.models == ["model"])
        #expect(pipeline.threshold == 0.5)
        #expect(pipeline.output == .init(shadow: "s", field: "rain_prediction", scoreField: "rain_score"))
        #expect(pipeline.every == GroupDefinition.Pipeline.defaultInterval)
    }

    @Test func aMessagePipelineIsASubscriptionEndpoint() throws {
        let yaml = withPipelines(
            """
              - id: p
                input: {fields: [x]}
                models: [m]
                output: {topic: out/p, field: y}
            """,
            extra: """
                subscriptions:
                  - {id: in, source: "device:s", subject: in/#, target: "pipeline:p"}
                  - {id: out, source: "pipeline:p", subject: out/p, target: "device:s"}
                """
        )
        let group = try parsed(yaml)
        #expect(group.pipelines.first?.every == nil)
        #expect(group.subscriptions.map(\.target) == [.pipeline("p"), .device("s")])
        // The canonical form is a group file too, and means the same group.
        let again = try parsed(String(decoding: group.canonicalJSON(), as: UTF8.self))
        #expect(again == group)
    }

    @Test(arguments: [
        (
            "unknown model",
            """
              - id: p
                input: {shadow: s, fields: [x]}
                models: [nope]
                output: {shadow: s, field: y}
            """,
            "error: pipelines[0].models[0]: \"nope\" names no resource of this group; machine learning resources: model"
        ),
        (
            "a volume is not a model",
            """
              - id: p
                input: {shadow: s, fields: [x]}
                models: [volume]
                output: {shadow: s, field: y}
            """,
            "error: pipelines[0].models[0]: \"volume\" is not a machineLearningModel resource; a pipeline runs models"
        ),
        (
            "unknown thing",
            """
              - id: p
                input: {shadow: other, fields: [x]}
                models: [m]
                output: {shadow: s, field: y}
            """,
            "error: pipelines[0].input.shadow: \"other\" is not a thing of this group (the core or a device); things: gw, s"
        ),
        (
            "every with messages",
            """
              - id: p
                input: {fields: [x]}
                models: [m]
                every: 5
                output: {topic: t, field: y}
            """,
            "error: pipelines[0].every: applies to a pipeline that reads a shadow; one that takes messages runs on each message"
        ),
        (
            "both outputs",
            """
              - id: p
                input: {shadow: s, fields: [x]}
                models: [m]
                output: {shadow: s, topic: t, field: y}
            """,
            "error: pipelines[0].output.topic: an output is either a shadow or a topic, not both"
        ),
        (
            "no output target",
            """
              - id: p
                input: {shadow: s, fields: [x]}
                models: [m]
                output: {field: y}
            """,
            "error: pipelines[0].output: needs shadow (a thing whose reported state gets the result) or topic"
        ),
        (
            "wildcard output topic",
            """
              - id: p
                input: {shadow: s, fields: [x]}
                models: [m]
                output: {topic: a/#, field: y}
            """,
            "error: pipelines[0].output.topic: \"a/#\" is not a topic to publish on"
        ),
        (
            "duplicate field",
            """
              - id: p
                input: {shadow: s, fields: [x, x]}
                models: [m]
                output: {shadow: s, field: y}
            """,
            "error: pipelines[0].input.fields[1]: \"x\" is listed twice"
        ),
        (
            "interval too short",
            """
              - id: p
                input: {shadow: s, fields: [x]}
                models: [m]
                every: 0.01
                output: {shadow: s, field: y}
            """,
            "error: pipelines[0].every: 0.01 is out of range; expected 0.1…86400.0 seconds"
        ),
    ])
    func aBadPipelineIsRefusedNamingTheField(_ rule: String, _ pipelines: String, _ expected: String) {
        let found = diagnostics(withPipelines(pipelines))
        #expect(found.contains { $0.contains(expected) }, "\(rule): \(found)")
    }

    @Test func aShadowPipelineTakesNoMessages() {
        let found = diagnostics(
            withPipelines(
                good,
                extra: """
                    subscriptions:
                      - {id: in, source: "device:s", subject: in/#, target: "pipeline:p"}
                      - {id: none, source: "device:s", subject: in/#, target: "pipeline:q"}
                    """
            )
        )
        #expect(found.contains { $0.contains("subscriptions[0].target: pipeline \"p\" reads the shadow of \"s\", not messages") })
        #expect(found.contains { $0.contains("subscriptions[1].target: \"pipeline:q\" names no pipeline of this group; pipelines: p") })
    }
}
