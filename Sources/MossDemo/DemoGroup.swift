import Foundation

/// The demo's group file: the tutorial's group (the sensor, the republishing function, the two ML resources, the
/// inference function) plus the same inference as a declarative pipeline. Written to DATA_DIR/demo/group.yaml, where
/// `moss deploy` takes it as it takes any group.
struct DemoGroup {
    let demoDirectory: String
    let deviceCertificate: String
    let settings: DemoSettings
    /// False when greengrasssdk could not be installed: no functions, and the pipeline reads the sensor's messages.
    let withFunctions: Bool

    static let pipeline = "rain-native"
    static let readingsTopic = "bme680/readings"

    var yaml: String {
        let thing = DemoWorkspace.thing
        var text = """
            # The rain-prediction tutorial's group, as `moss demo` deploys it. Deploy it yourself with:
            #   moss deploy \(demoDirectory)/group.yaml
            core:
              thingName: \(DemoWorkspace.core)
            devices:
              - thingName: \(thing)
                certificate: \(quoted(deviceCertificate))
                syncShadow: \(settings.cloud)
            resources:
              - id: standardiser
                name: standardiser
                machineLearningModel:
                  source: \(quoted("file:" + demoDirectory + "/models/standardiser.zip"))
                  destinationPath: /ggml/tensorflow/standardiser
              - id: rain_predictor
                name: rain_predictor
                machineLearningModel:
                  source: \(quoted("file:" + demoDirectory + "/models/rain_predictor.zip"))
                  destinationPath: /ggml/tensorflow/rain_predictor

            """
        if withFunctions {
            text += """
                functions:
                  # On demand, once per reading, as in the tutorial (it needs /sys for the CPU temperature).
                  - id: republisher
                    name: republisher
                    runtime: python3.8
                    handler: republisher.function_handler
                    code: \(quoted(demoDirectory + "/functions/republisher"))
                    timeout: 10
                    accessSysfs: true
                    environment:
                      variables:
                        THING_NAME: \(thing)
                  # Pinned (long-lived): loops over the shadow, using the native engine through the inference service.
                  - id: rain_inference
                    name: rain_inference
                    runtime: python3.8
                    handler: rain_inference.function_handler
                    code: \(quoted(demoDirectory + "/functions/rain_inference"))
                    pinned: true
                    timeout: 30
                    environment:
                      variables:
                        THING_NAME: \(thing)
                        INFERENCE_INTERVAL: "\(settings.inferenceInterval)"
                    resourceAccessPolicies:
                      - {resourceId: standardiser, permission: ro}
                      - {resourceId: rain_predictor, permission: ro}
                subscriptions:
                  - id: sensor-to-republisher
                    source: device:\(thing)
                    subject: \(Self.readingsTopic)
                    target: function:republisher
                # The same inference with no code at all.
                pipelines:
                  - id: \(Self.pipeline)
                    input: {shadow: \(thing), fields: [pressure, temperature, humidity]}
                    every: \(settings.inferenceInterval)
                    models: [standardiser, rain_predictor]
                    threshold: 0.5
                    output: {shadow: \(thing), field: pipeline_rain_prediction, scoreField: pipeline_rain_probability}

                """
        } else {
            text += """
                subscriptions:
                  - id: sensor-to-pipeline
                    source: device:\(thing)
                    subject: \(Self.readingsTopic)
                    target: pipeline:\(Self.pipeline)
                # No Python functions here: the pipeline reads the sensor's messages itself.
                pipelines:
                  - id: \(Self.pipeline)
                    input: {fields: [pressure, temperature, humidity]}
                    models: [standardiser, rain_predictor]
                    threshold: 0.5
                    output: {shadow: \(thing), field: pipeline_rain_prediction, scoreField: pipeline_rain_probability}

                """
        }
        return text
    }

    private func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
