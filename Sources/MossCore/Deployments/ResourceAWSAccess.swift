import AsyncHTTPClient
import Foundation
import MossAWS
import MossResources

extension CoreConfiguration.Resources {
    /// An AWS client for model sources: credentials from the daemon's environment and the AWS files (the chain
    /// in docs/aws.md), the core's region, and the configured endpoint overrides. Resolved per deployment, so
    /// rotated credentials are picked up and a group without AWS sources needs none.
    func awsClient(region: String, httpClient: HTTPClient) throws(ResourceError) -> AWSClient {
        let chain = AWSCredentialChain(environment: ProcessInfo.processInfo.environment, profile: profile)
        let credentials: AWSCredentials
        do {
            credentials = try chain.resolve().credentials
        } catch {
            throw ResourceError(.credentialsMissing, "\(error)")
        }
        var overrides: [AWSService: AWSEndpoint] = [:]
        // Validated when the configuration was loaded.
        if let url = s3Endpoint { overrides[.s3] = try? AWSEndpoint(url: url) }
        if let url = sageMakerEndpoint { overrides[.sagemaker] = try? AWSEndpoint(url: url) }
        return AWSClient(
            credentials: credentials,
            endpoints: AWSEndpoints(region: region, overrides: overrides),
            timeout: .seconds(60),
            httpClient: httpClient
        )
    }
}
