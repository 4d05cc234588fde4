public import MossResources

extension CoreConfiguration {
    /// How machine learning resources are fetched and unpacked (docs/resources.md).
    public struct Resources: Sendable, Hashable {
        /// Inline statements added to AWSGreengrassResourceAccessRolePolicy's (which are always in effect).
        public var policyStatements: [ResourcePolicy.Statement]
        /// Bytes one package may unpack to.
        public var maximumUnpackedBytes: Int64
        /// Entries (files, directories, links) one package may hold.
        public var maximumEntries: Int
        /// Replaces AWS's S3 endpoint (an S3-compatible store, a VPC endpoint; moto in tests).
        public var s3Endpoint: String?
        /// Replaces AWS's SageMaker endpoint.
        public var sageMakerEndpoint: String?
        /// The AWS profile to read credentials from; nil for the default chain (environment, then `default`).
        public var profile: String?
        /// A PEM file of CA certificates trusted for https sources besides the system's (a model server behind a
        /// company CA); nil for the system's only.
        public var trustedCertificates: String?

        public init(
            policyStatements: [ResourcePolicy.Statement] = [],
            maximumUnpackedBytes: Int64 = UnpackLimits().maximumBytes,
            maximumEntries: Int = UnpackLimits().maximumEntries,
            s3Endpoint: String? = nil,
            sageMakerEndpoint: String? = nil,
            profile: String? = nil,
            trustedCertificates: String? = nil
        ) {
            self.trustedCertificates = trustedCertificates
            self.policyStatements = policyStatements
            self.maximumUnpackedBytes = maximumUnpackedBytes
            self.maximumEntries = maximumEntries
            self.s3Endpoint = s3Endpoint
            self.sageMakerEndpoint = sageMakerEndpoint
            self.profile = profile
        }

        public var policy: ResourcePolicy { ResourcePolicy(inlineStatements: policyStatements) }
        public var limits: UnpackLimits {
            UnpackLimits(maximumBytes: maximumUnpackedBytes, maximumEntries: maximumEntries)
        }
    }
}
