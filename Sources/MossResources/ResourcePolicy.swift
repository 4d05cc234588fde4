public import MossAWS

/// The local stand-in for Greengrass V1's service role: which S3 objects and SageMaker jobs Moss may read.
///
/// It always holds the S3 and SageMaker statements of AWSGreengrassResourceAccessRolePolicy (objects whose ARN
/// contains greengrass or sagemaker in the spellings the managed policy lists); the core configuration's inline
/// statements extend it, as inline policies on the role did. Only `Allow` statements exist: what none allows is
/// refused before any request is sent.
public struct ResourcePolicy: Sendable, Hashable {
    /// An IAM-style statement: `Effect: Allow`, actions and resource ARNs, both with `*` and `?` wildcards.
    public struct Statement: Sendable, Hashable, Codable {
        /// A name for error messages (IAM's `Sid`).
        public var sid: String?
        public var actions: [String]
        public var resources: [String]

        public init(sid: String? = nil, actions: [String], resources: [String]) {
            self.sid = sid
            self.actions = actions
            self.resources = resources
        }

        func allows(action: String, resource: String) -> Bool {
            actions.contains { IAMWildcard.matches($0.lowercased(), action.lowercased()) }
                && resources.contains { IAMWildcard.matches($0, resource) }
        }
    }

    /// AWSGreengrassResourceAccessRolePolicy's statements for model sources.
    public static let managedStatements: [Statement] = [
        Statement(
            sid: "AllowGreengrassAccessToS3Objects",
            actions: ["s3:GetObject"],
            resources: ["Greengrass", "GreenGrass", "greengrass", "Sagemaker", "SageMaker", "sagemaker"].map {
                "arn:aws:s3:::*\($0)*"
            }
        ),
        Statement(
            sid: "AllowGreengrassAccessToSageMakerTrainingJobs",
            actions: ["sagemaker:DescribeTrainingJob"],
            resources: ["arn:aws:sagemaker:*:*:training-job/*"]
        ),
    ]

    /// The inline statements added to the managed ones.
    public var inlineStatements: [Statement]

    public init(inlineStatements: [Statement] = []) {
        self.inlineStatements = inlineStatements
    }

    public var statements: [Statement] { Self.managedStatements + inlineStatements }

    /// Whether some statement allows `action` on `resource`.
    public func allows(action: String, resource: String) -> Bool {
        statements.contains { $0.allows(action: action, resource: resource) }
    }

    /// Refuses reading `location` unless a statement allows `s3:GetObject` on it, and refuses bucket names with
    /// periods, which V1 could not read (virtual-hosted TLS).
    public func checkRead(_ location: S3Location) throws(ResourceError) {
        if location.bucket.contains(".") {
            throw ResourceError(
                .bucketNameUnsupported,
                "The bucket \"\(location.bucket)\" has periods in its name, which Greengrass V1 refused for model "
                    + "sources (S3's TLS certificate does not cover virtual-hosted names with periods); copy the model "
                    + "to a bucket without periods"
            )
        }
        let arn = "arn:aws:s3:::\(location.bucket)/\(location.key)"
        guard allows(action: "s3:GetObject", resource: arn) else {
            throw ResourceError(
                .accessNotAllowed,
                "The service-role policy does not allow s3:GetObject on \(arn): AWSGreengrassResourceAccessRolePolicy "
                    + "allows only objects whose ARN contains greengrass or sagemaker (e.g. arn:aws:s3:::*greengrass*). "
                    + "Either rename the bucket to contain \"greengrass\", or add an inline statement to the core "
                    + "configuration: resources.policy.statements: [{effect: Allow, action: s3:GetObject, resource: "
                    + "\"arn:aws:s3:::\(location.bucket)/*\"}]"
            )
        }
    }

    /// Refuses describing the training job `arn` unless a statement allows `sagemaker:DescribeTrainingJob` on it.
    public func checkDescribe(trainingJob arn: String) throws(ResourceError) {
        guard allows(action: "sagemaker:DescribeTrainingJob", resource: arn) else {
            throw ResourceError(
                .accessNotAllowed,
                "The service-role policy does not allow sagemaker:DescribeTrainingJob on \(arn); add an inline "
                    + "statement to the core configuration: resources.policy.statements: [{effect: Allow, action: "
                    + "sagemaker:DescribeTrainingJob, resource: \"\(arn)\"}]"
            )
        }
    }
}
