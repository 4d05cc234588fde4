/// An AWS service as MossAWS calls it: the name its requests are signed with.
public struct AWSService: Sendable, Hashable, CustomStringConvertible {
    /// The service name in the SigV4 credential scope.
    public var signingName: String

    /// A service by its signing name.
    public init(signingName: String) { self.signingName = signingName }

    public var description: String { signingName }

    /// Amazon S3 (signs with S3's rules).
    public static let s3 = Self(signingName: "s3")
    /// Amazon SageMaker's API (JSON 1.1).
    public static let sagemaker = Self(signingName: "sagemaker")
    /// The AWS IoT data plane: device shadows over HTTPS (REST-JSON).
    public static let iotData = Self(signingName: "iotdata")
    /// The AWS IoT control plane (things, certificates); used by tests to register things.
    public static let iot = Self(signingName: "iot")
}
