import Foundation

/// The parts of a DescribeTrainingJob answer Moss uses.
public struct SageMakerTrainingJob: Sendable, Hashable, Decodable {
    /// Where a finished job left its model.
    public struct ModelArtifacts: Sendable, Hashable, Decodable {
        /// `s3://bucket/prefix/output/model.tar.gz`.
        public var s3ModelArtifacts: String

        private enum CodingKeys: String, CodingKey { case s3ModelArtifacts = "S3ModelArtifacts" }
    }

    /// The job's name.
    public var trainingJobName: String
    /// The job's ARN.
    public var trainingJobARN: String?
    /// `InProgress`, `Completed`, `Failed`, `Stopping`, `Stopped`.
    public var trainingJobStatus: String?
    /// Present once the job has produced a model.
    public var modelArtifacts: ModelArtifacts?

    private enum CodingKeys: String, CodingKey {
        case trainingJobName = "TrainingJobName"
        case trainingJobARN = "TrainingJobArn"
        case trainingJobStatus = "TrainingJobStatus"
        case modelArtifacts = "ModelArtifacts"
    }

    /// The model's S3 location, when the job has one.
    public var modelLocation: S3Location? { modelArtifacts.flatMap { S3Location(url: $0.s3ModelArtifacts) } }

    /// The job name in `arn:aws:sagemaker:REGION:ACCOUNT:training-job/NAME`, or `nameOrARN` when it is a name.
    public static func name(fromNameOrARN nameOrARN: String) -> String {
        guard nameOrARN.hasPrefix("arn:"), let slash = nameOrARN.range(of: ":training-job/") else { return nameOrARN }
        return String(nameOrARN[slash.upperBound...])
    }
}

extension AWSClient {
    /// DescribeTrainingJob, by name or ARN (the ARN's region is not used: the client's is).
    ///
    /// - Throws: ``AWSError`` (`ValidationException` for an unknown job, as SageMaker answers), or the transport's.
    public func describeTrainingJob(_ nameOrARN: String) async throws -> SageMakerTrainingJob {
        let name = SageMakerTrainingJob.name(fromNameOrARN: nameOrARN)
        let body = try JSONSerialization.data(withJSONObject: ["TrainingJobName": name])
        let request = try self.request(
            .sagemaker,
            method: "POST",
            headers: [
                AWSHeader("X-Amz-Target", "SageMaker.DescribeTrainingJob"),
                AWSHeader("Content-Type", "application/x-amz-json-1.1"),
            ],
            body: Array(body)
        )
        let response = try await send(request, service: .sagemaker)
        return try JSONDecoder().decode(SageMakerTrainingJob.self, from: Data(response.body))
    }
}
