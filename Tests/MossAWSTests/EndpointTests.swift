import MossAWS
import Testing

@Suite struct EndpointTests {
    @Test func defaultEndpoints() throws {
        let endpoints = AWSEndpoints(region: "eu-west-1")
        #expect(try endpoints.endpoint(for: .s3).description == "https://s3.eu-west-1.amazonaws.com")
        #expect(try endpoints.endpoint(for: .sagemaker).description == "https://api.sagemaker.eu-west-1.amazonaws.com")
        #expect(try endpoints.endpoint(for: .iot).description == "https://iot.eu-west-1.amazonaws.com")
        #expect(try AWSEndpoints(region: "cn-north-1").endpoint(for: .s3).host == "s3.cn-north-1.amazonaws.com.cn")
    }

    @Test func theIoTDataEndpointIsConfiguredNotDerived() throws {
        #expect(throws: AWSConfigurationError.missingIoTDataEndpoint) {
            try AWSEndpoints(region: "eu-west-1").endpoint(for: .iotData)
        }
        let ats = try AWSEndpoint(url: "https://a1b2c3-ats.iot.eu-west-1.amazonaws.com")
        #expect(try AWSEndpoints(region: "eu-west-1", iotDataEndpoint: ats).endpoint(for: .iotData) == ats)
    }

    @Test func s3VirtualHostedUnlessTheBucketHasDots() throws {
        let endpoints = AWSEndpoints(region: "us-west-2")
        let virtual = try endpoints.s3Location(bucket: "greengrass-models", key: "rain/model v2.zip")
        #expect(virtual.endpoint.host == "greengrass-models.s3.us-west-2.amazonaws.com")
        #expect(virtual.path == "/rain/model%20v2.zip")

        let dotted = try endpoints.s3Location(bucket: "my.greengrass.models", key: "a+b/ü.zip")
        #expect(dotted.endpoint.host == "s3.us-west-2.amazonaws.com")
        #expect(dotted.path == "/my.greengrass.models/a%2Bb/%C3%BC.zip")

        let bucketOnly = try endpoints.s3Location(bucket: "my.greengrass.models")
        #expect(bucketOnly.path == "/my.greengrass.models")
        #expect(try endpoints.s3Location(bucket: "greengrass-models").path == "/")

        let pathStyle = AWSEndpoints(region: "us-west-2", s3AddressingStyle: .path)
        #expect(try pathStyle.s3Location(bucket: "greengrass-models", key: "k").path == "/greengrass-models/k")
        #expect(throws: AWSConfigurationError.self) { try endpoints.s3Location(bucket: "a/b", key: "k") }
        #expect(throws: AWSConfigurationError.self) { try endpoints.s3Location(bucket: "", key: "k") }
    }

    @Test func overridesGoPathStyle() throws {
        let moto = try AWSEndpoint(url: "http://127.0.0.1:5123/")
        let endpoints = AWSEndpoints(region: "us-east-1", overrides: [.s3: moto, .sagemaker: moto])
        let location = try endpoints.s3Location(bucket: "greengrass-models", key: "model.zip")
        #expect(location.endpoint == moto)
        #expect(location.path == "/greengrass-models/model.zip")
        #expect(try endpoints.endpoint(for: .sagemaker) == moto)
        #expect(try endpoints.endpoint(for: .iot).host == "iot.us-east-1.amazonaws.com")

        let virtual = AWSEndpoints(
            region: "us-east-1",
            overrides: [.s3: try AWSEndpoint(url: "https://s3.example.internal")],
            s3AddressingStyle: .virtualHosted
        )
        #expect(try virtual.s3Location(bucket: "models", key: "k").endpoint.host == "models.s3.example.internal")
    }

    @Test func parsingEndpoints() throws {
        let moto = try AWSEndpoint(url: "http://127.0.0.1:5123")
        #expect(moto.scheme == "http" && moto.host == "127.0.0.1" && moto.port == 5123)
        #expect(moto.hostHeader == "127.0.0.1:5123")
        #expect(try AWSEndpoint(url: "https://S3.Example.com:443").hostHeader == "s3.example.com")
        #expect(try AWSEndpoint(url: "http://[::1]:8080").host == "[::1]")
        #expect(try AWSEndpoint(url: "http://[::1]").port == nil)
        for bad in ["127.0.0.1:5000", "ftp://x", "http://", "http://host/path", "http://host:0", "http://host:x"] {
            #expect(throws: AWSConfigurationError.self, "\(bad)") { try AWSEndpoint(url: bad) }
        }
    }

    @Test func s3URLs() {
        #expect(
            S3Location(url: "s3://greengrass-models/rain/model.zip")
                == S3Location(bucket: "greengrass-models", key: "rain/model.zip")
        )
        #expect(S3Location(url: "s3://bucket") == S3Location(bucket: "bucket", key: ""))
        #expect(S3Location(url: "https://bucket/key") == nil)
        #expect(S3Location(url: "s3:///key") == nil)
        #expect(S3Location(bucket: "b", key: "k/x").description == "s3://b/k/x")
    }

    @Test func trainingJobNamesFromARNs() {
        #expect(
            SageMakerTrainingJob.name(fromNameOrARN: "arn:aws:sagemaker:eu-west-1:123456789012:training-job/rain-2026")
                == "rain-2026"
        )
        #expect(SageMakerTrainingJob.name(fromNameOrARN: "rain-2026") == "rain-2026")
    }
}
