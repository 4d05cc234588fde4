import Foundation
import MossDeploy
import Testing

/// The repository's docs/, found from this file so the tests run from any directory.
let docsDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("docs").path

@Suite("docs/") struct ExampleTests {
    @Test func theTutorialGroupValidates() throws {
        let path = docsDirectory + "/examples/rain-group.yaml"
        let (group, warnings) = try GroupFile.load(path: path, context: GroupContext())
        #expect(warnings.map { "\($0.line ?? 0): \($0.field): \($0.message)" } == [])
        #expect(group.devices.map(\.thingName) == ["bme680-sensor"])
        #expect(group.devices.first?.syncShadow == true)
        #expect(group.devices.first?.certificate == .file(docsDirectory + "/examples/rain/certs/bme680-sensor.pem"))
        let repub = try #require(group.functions.first { $0.name == "repub" })
        #expect(repub.pinned == false && repub.accessSysfs && repub.runtime.isPython)
        #expect(repub.handler == "greengrass_repub_lambda.function_handler")
        #expect(repub.environment.variables == ["THING_NAME": "bme680-sensor"])
        let inference = try #require(group.functions.first { $0.name == "inference" })
        #expect(inference.pinned && inference.timeout == 900)
        #expect(Set(inference.resourceAccessPolicies.map(\.resourceId)) == ["standardiser", "rain_predictor"])
        #expect(
            group.resources.map(\.destinationPath) == [
                "/ggml/tensorflow/standardiser", "/ggml/tensorflow/rain_predictor",
            ]
        )
        for resource in group.resources {
            guard case .machineLearningModel(let model) = resource.kind, case .s3(let bucket, _) = model.source else {
                Issue.record("\(resource.id) is not an S3 model")
                continue
            }
            #expect(bucket.contains("greengrass"))
        }
        #expect(
            group.subscriptions.contains(
                Subscription(
                    id: "sensor-to-repub",
                    source: .device("bme680-sensor"),
                    subject: "bme680/readings",
                    target: .function("repub")
                )
            )
        )
        #expect(group.subscriptions.filter { $0.source == .shadow || $0.target == .shadow }.count == 7)
    }

    @Test func theTutorialFunctionsAreTheSeedsCode() throws {
        for file in ["rain/repub/greengrass_repub_lambda.py", "rain/inference/ml_inference_lambda.py"] {
            let text = try String(contentsOfFile: docsDirectory + "/examples/" + file, encoding: .utf8)
            #expect(text.contains("THING_NAME = os.environ[\"THING_NAME\"]"))
            #expect(text.contains("def function_handler(event, context):"))
        }
    }
}
