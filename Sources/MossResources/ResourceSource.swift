public import MossAWS

/// Where a resource's package comes from.
public enum ResourceSource: Sendable, Hashable, CustomStringConvertible {
    /// An S3 object (`.zip` or `.tar.gz`), read with a signed GetObject.
    case s3(S3Location)
    /// A SageMaker training job (ARN or name): its `ModelArtifacts.S3ModelArtifacts` object.
    case sageMakerTrainingJob(String)
    /// An `https://` URL.
    case https(String)
    /// A local package file or directory.
    case file(String)

    public var description: String {
        switch self {
        case .s3(let location): location.description
        case .sageMakerTrainingJob(let arn): arn
        case .https(let url): url
        case .file(let path): "file:" + path
        }
    }
}
