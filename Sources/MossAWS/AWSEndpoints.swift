/// Where each service is for one region: AWS's default endpoints, the account's IoT data endpoint, and an
/// override per service (a local stand-in such as `http://127.0.0.1:PORT` for moto, or a VPC endpoint).
public struct AWSEndpoints: Sendable, Hashable {
    /// How S3 requests name the bucket.
    public enum S3AddressingStyle: Sendable, Hashable {
        /// Virtual-hosted (`BUCKET.s3.REGION.amazonaws.com/KEY`) when the bucket name is a DNS label without dots,
        /// path-style otherwise; always path-style on an overridden endpoint (moto, an IP address).
        case automatic
        /// `BUCKET.HOST/KEY`, on the default and on overridden endpoints; a bucket with dots still goes path-style.
        case virtualHosted
        /// `HOST/BUCKET/KEY`.
        case path
    }

    /// The region requests are signed for (`eu-west-1`).
    public var region: String
    /// Endpoints that replace the default of their service.
    public var overrides: [AWSService: AWSEndpoint]
    /// The account's IoT data endpoint (`https://PREFIX-ats.iot.REGION.amazonaws.com`): it cannot be derived.
    public var iotDataEndpoint: AWSEndpoint?
    /// How S3 requests name the bucket.
    public var s3AddressingStyle: S3AddressingStyle

    /// Endpoints for `region`.
    public init(
        region: String,
        overrides: [AWSService: AWSEndpoint] = [:],
        iotDataEndpoint: AWSEndpoint? = nil,
        s3AddressingStyle: S3AddressingStyle = .automatic
    ) {
        self.region = region
        self.overrides = overrides
        self.iotDataEndpoint = iotDataEndpoint
        self.s3AddressingStyle = s3AddressingStyle
    }

    /// The endpoint of `service`: its override, else the IoT data endpoint for `iotdata`, else AWS's default
    /// (`s3.REGION.amazonaws.com`, `api.sagemaker.REGION.amazonaws.com`, `SERVICE.REGION.amazonaws.com`).
    public func endpoint(for service: AWSService) throws(AWSConfigurationError) -> AWSEndpoint {
        if let override = overrides[service] { return override }
        switch service {
        case .iotData:
            guard let iotDataEndpoint else { throw .missingIoTDataEndpoint }
            return iotDataEndpoint
        case .sagemaker:
            return AWSEndpoint(host: "api.sagemaker.\(region).\(dnsSuffix)")
        default:
            return AWSEndpoint(host: "\(service.signingName).\(region).\(dnsSuffix)")
        }
    }

    /// The endpoint and path (encoded once) of an S3 object, or of the bucket itself when `key` is empty.
    public func s3Location(
        bucket: String,
        key: String = ""
    ) throws(AWSConfigurationError) -> (
        endpoint: AWSEndpoint, path: String
    ) {
        guard (3...63).contains(bucket.utf8.count), !bucket.contains("/") else {
            throw .invalidBucketName(bucket)
        }
        let encodedKey = AWSURIEncoding.encode(key, keepingSlashes: true)
        var endpoint = try self.endpoint(for: .s3)
        if usesVirtualHosting(bucket: bucket) {
            endpoint.host = "\(bucket).\(endpoint.host)"
            return (endpoint, "/" + encodedKey)
        }
        let bucketPath = "/" + AWSURIEncoding.encode(bucket)
        return (endpoint, key.isEmpty ? bucketPath : bucketPath + "/" + encodedKey)
    }

    private func usesVirtualHosting(bucket: String) -> Bool {
        // A dot in the bucket would add a level to the host name, which the *.s3 TLS certificate does not cover.
        let isDNSLabel =
            bucket.utf8.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                    || byte == UInt8(ascii: "-")
            } && !bucket.hasPrefix("-") && !bucket.hasSuffix("-")
        switch s3AddressingStyle {
        case .path: return false
        case .virtualHosted: return isDNSLabel
        case .automatic: return isDNSLabel && overrides[.s3] == nil
        }
    }

    /// China's regions live under their own domain.
    private var dnsSuffix: String { region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com" }
}
