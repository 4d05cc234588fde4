import Foundation
import MossAWS
import MossTestSupport
import NIOCore
import Testing

/// AWSClient against moto_server on loopback: real HTTP, real SigV4 headers, AWS's own error shapes.
@Suite(.enabled(if: MotoServer.isAvailable, "moto_server is not installed (pip install 'moto[server]')"))
struct MotoTests {
    private func client(_ moto: AWSEndpoint, region: String = "us-east-1") -> AWSClient {
        AWSClient(
            credentials: MotoServer.credentials,
            endpoints: AWSEndpoints(
                region: region,
                overrides: [.s3: moto, .sagemaker: moto, .iot: moto],
                iotDataEndpoint: moto
            ),
            timeout: .seconds(30)
        )
    }

    @Test(.timeLimit(.minutes(2))) func s3GetObjectDownloadsThenAnswersNotModified() async throws {
        try await MotoServer.with { moto in
            let s3 = client(moto, region: "eu-west-1")
            let model = S3Location(bucket: "greengrass-models", key: "rain models/ü predictor+v1.zip")
            let content = Array((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
            try await s3.createBucket(model.bucket)
            let etag = try #require(try await s3.putObject(model, body: content, contentType: "application/zip"))

            var received: [UInt8] = []
            let first = try await s3.getObject(model) { received.append(contentsOf: $0.readableBytesView) }
            guard case .downloaded(let metadata) = first else {
                Issue.record("expected a download, got \(first)")
                return
            }
            #expect(received == content)
            #expect(metadata.etag == etag)
            #expect(metadata.contentLength == Int64(content.count))

            var chunks = 0
            let second = try await s3.getObject(model, ifNoneMatch: etag) { _ in chunks += 1 }
            #expect(second == .notModified(etag: etag))
            #expect(chunks == 0)

            // A changed object has a new ETag, so the old one no longer matches.
            try await s3.putObject(model, body: Array("v2".utf8))
            var changed: [UInt8] = []
            let third = try await s3.getObject(model, ifNoneMatch: etag) {
                changed.append(contentsOf: $0.readableBytesView)
            }
            #expect(changed == Array("v2".utf8))
            if case .downloaded(let metadata) = third {
                #expect(metadata.etag != etag)
            } else {
                Issue.record("\(third)")
            }
        }
    }

    @Test(.timeLimit(.minutes(2))) func s3GetObjectIntoAFileAndDottedBuckets() async throws {
        try await MotoServer.with { moto in
            try await withTemporaryDirectory { directory in
                let s3 = client(moto)
                let model = S3Location(bucket: "my.greengrass.models", key: "a/b/c.zip")
                try await s3.createBucket(model.bucket)
                try await s3.putObject(model, body: Array("model bytes".utf8))
                let path = "\(directory)/c.zip"
                _ = FileManager.default.createFile(atPath: path, contents: nil)
                let file = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
                _ = try await s3.getObject(model, writingTo: file)
                try file.close()
                #expect(try String(contentsOfFile: path, encoding: .utf8) == "model bytes")
            }
        }
    }

    @Test(.timeLimit(.minutes(2))) func s3ErrorsAreTyped() async throws {
        try await MotoServer.with { moto in
            let s3 = client(moto)
            try await s3.createBucket("greengrass-models")

            let noKey = await #expect(throws: AWSError.self) {
                try await s3.getObject(S3Location(bucket: "greengrass-models", key: "missing.zip")) { _ in }
            }
            #expect(noKey?.code == "NoSuchKey")
            #expect(noKey?.status == 404)
            #expect(noKey?.service == "s3")
            #expect(noKey?.message.isEmpty == false)

            let noBucket = await #expect(throws: AWSError.self) {
                try await s3.getObject(S3Location(bucket: "no-such-greengrass-bucket", key: "m.zip")) { _ in }
            }
            #expect(noBucket?.code == "NoSuchBucket")
            #expect(noBucket?.status == 404)

            // HEAD has no body: the status is the code, as botocore reports it.
            let (endpoint, path) = try s3.endpoints.s3Location(bucket: "greengrass-models", key: "missing.zip")
            let head = await #expect(throws: AWSError.self) {
                try await s3.send(AWSRequest(method: "HEAD", endpoint: endpoint, path: path), service: .s3)
            }
            #expect(head?.code == "404")
        }
    }

    @Test(.timeLimit(.minutes(2))) func sagemakerDescribeTrainingJob() async throws {
        try await MotoServer.with { moto in
            let aws = client(moto)
            let create = try JSONSerialization.data(
                withJSONObject: [
                    "TrainingJobName": "rain-predictor",
                    "AlgorithmSpecification": [
                        "TrainingImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/rain:latest",
                        "TrainingInputMode": "File",
                    ],
                    "RoleArn": "arn:aws:iam::123456789012:role/sagemaker",
                    "OutputDataConfig": ["S3OutputPath": "s3://sagemaker-greengrass-models/output"],
                    "ResourceConfig": ["InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10],
                    "StoppingCondition": ["MaxRuntimeInSeconds": 3600],
                ] as [String: Any]
            )
            let response = try await aws.send(
                try aws.request(
                    .sagemaker,
                    method: "POST",
                    headers: [
                        AWSHeader("X-Amz-Target", "SageMaker.CreateTrainingJob"),
                        AWSHeader("Content-Type", "application/x-amz-json-1.1"),
                    ],
                    body: Array(create)
                ),
                service: .sagemaker
            )
            let arn = try #require(
                (try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])?["TrainingJobArn"]
                    as? String
            )

            let job = try await aws.describeTrainingJob(arn)
            #expect(job.trainingJobName == "rain-predictor")
            #expect(job.trainingJobARN == arn)
            let location = try #require(job.modelLocation)
            #expect(location.bucket == "sagemaker-greengrass-models")
            #expect(location.key.hasSuffix("model.tar.gz"))

            let missing = await #expect(throws: AWSError.self) { try await aws.describeTrainingJob("no-such-job") }
            #expect(missing?.status == 400)
            #expect(missing?.code == "ValidationException")
            #expect(missing?.service == "sagemaker")
        }
    }

    @Test(.timeLimit(.minutes(2))) func iotDataShadowRoundTrip() async throws {
        try await MotoServer.with { moto in
            let aws = client(moto)
            // The data plane only knows things the control plane registered.
            _ = try await aws.send(
                try aws.request(.iot, method: "POST", path: "/things/bme680-sensor", body: Array("{}".utf8)),
                service: .iot
            )

            let missing = await #expect(throws: AWSError.self) { try await aws.getThingShadow("bme680-sensor") }
            #expect(missing?.code == "ResourceNotFoundException")
            #expect(missing?.status == 404)

            let update = #"{"state":{"reported":{"temperature":21.5},"desired":{"interval":10}}}"#
            let accepted = try await aws.updateThingShadow("bme680-sensor", document: Array(update.utf8))
            #expect(try Self.json(accepted)["version"] as? Int == 1)

            let shadow = try Self.json(try await aws.getThingShadow("bme680-sensor"))
            let state = try #require(shadow["state"] as? [String: Any])
            #expect((state["reported"] as? [String: Any])?["temperature"] as? Double == 21.5)
            #expect((state["delta"] as? [String: Any])?["interval"] as? Int == 10)

            try await aws.deleteThingShadow("bme680-sensor")
            await #expect(throws: AWSError.self) { try await aws.getThingShadow("bme680-sensor") }
        }
    }

    @Test(.timeLimit(.minutes(2))) func iotDataNamedShadows() async throws {
        try await MotoServer.with { moto in
            let aws = client(moto)
            _ = try await aws.send(
                try aws.request(.iot, method: "POST", path: "/things/bme680-sensor", body: Array("{}".utf8)),
                service: .iot
            )
            _ = try await aws.updateThingShadow(
                "bme680-sensor",
                shadowName: "weather",
                document: Array(#"{"state":{"reported":{"rain":"no rain"}}}"#.utf8)
            )
            let named = try Self.json(try await aws.getThingShadow("bme680-sensor", shadowName: "weather"))
            #expect(
                ((named["state"] as? [String: Any])?["reported"] as? [String: Any])?["rain"] as? String == "no rain"
            )
            // The classic shadow is another shadow.
            await #expect(throws: AWSError.self) { try await aws.getThingShadow("bme680-sensor") }
        }
    }

    private static func json(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }
}
