/// A configuration MossAWS cannot use: a malformed endpoint, a missing IoT endpoint, an impossible bucket name.
public struct AWSConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    public let description: String

    private init(_ description: String) { self.description = description }

    /// `url` is not an endpoint such as `https://host` or `http://127.0.0.1:5000`.
    public static func invalidEndpoint(_ url: String, reason: String) -> Self {
        Self("invalid AWS endpoint '\(url)': \(reason)")
    }

    /// The IoT data plane has no default endpoint: each account has its own ATS endpoint.
    public static let missingIoTDataEndpoint = Self(
        "no AWS IoT data endpoint configured: it is your account's ATS endpoint "
            + "(`aws iot describe-endpoint --endpoint-type iot:Data-ATS`), e.g. https://abc123-ats.iot.eu-west-1.amazonaws.com"
    )

    /// A bucket name S3 would refuse.
    public static func invalidBucketName(_ name: String) -> Self {
        Self("invalid S3 bucket name '\(name)': a bucket name has 3 to 63 characters and no '/'")
    }
}
