import Foundation
import MossAWS
import NIOCore
import Testing

/// moto with IAM authentication on checks every request's SigV4 signature (with botocore's signer, against the keys
/// it issued), so these prove that what AWSClient signs is what AsyncHTTPClient sends, and that a wrong key is
/// refused with a typed error.
@Suite(.enabled(if: MotoServer.isAvailable, "moto_server is not installed (pip install 'moto[server]')"))
struct MotoSignatureTests {
    private static let iam = AWSService(signingName: "iam")
    private static let sts = AWSService(signingName: "sts")
    private static let allowEverything =
        #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#

    /// moto lets the first three requests through unauthenticated: they create a user, its policy and its key.
    private func withAuthenticatingMoto(_ body: (AWSClient) async throws -> Void) async throws {
        try await MotoServer.with(environment: ["INITIAL_NO_AUTH_ACTION_COUNT": "3"]) { moto in
            let endpoints = AWSEndpoints(
                region: "us-east-1",
                overrides: [.s3: moto, .sagemaker: moto, .iot: moto, Self.iam: moto, Self.sts: moto],
                iotDataEndpoint: moto
            )
            let bootstrap = AWSClient(credentials: MotoServer.credentials, endpoints: endpoints, timeout: .seconds(30))
            _ = try await queryCall(bootstrap, Self.iam, ["Action": "CreateUser", "UserName": "moss"])
            _ = try await queryCall(
                bootstrap,
                Self.iam,
                [
                    "Action": "PutUserPolicy", "UserName": "moss", "PolicyName": "all",
                    "PolicyDocument": Self.allowEverything,
                ]
            )
            let created = try await queryCall(bootstrap, Self.iam, ["Action": "CreateAccessKey", "UserName": "moss"])
            let credentials = AWSCredentials(
                accessKeyID: try #require(Self.element("AccessKeyId", in: created)),
                secretAccessKey: try #require(Self.element("SecretAccessKey", in: created))
            )
            try await body(AWSClient(credentials: credentials, endpoints: endpoints, timeout: .seconds(30)))
        }
    }

    /// An IAM or STS query-protocol call: a form-encoded POST, as botocore sends it.
    private func queryCall(
        _ client: AWSClient,
        _ service: AWSService,
        _ parameters: [String: String]
    ) async throws
        -> String
    {
        let version = service == Self.sts ? "2011-06-15" : "2010-05-08"
        let form = (parameters.merging(["Version": version]) { old, _ in old })
            .sorted { $0.key < $1.key }
            .map { "\(AWSURIEncoding.encode($0.key))=\(AWSURIEncoding.encode($0.value))" }
            .joined(separator: "&")
        let request = try client.request(
            service,
            method: "POST",
            headers: [AWSHeader("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
            body: Array(form.utf8)
        )
        return String(decoding: try await client.send(request, service: service).body, as: UTF8.self)
    }

    private static func element(_ name: String, in xml: String) -> String? {
        guard let open = xml.range(of: "<\(name)>"), let close = xml.range(of: "</\(name)>") else { return nil }
        return String(xml[open.upperBound..<close.lowerBound])
    }

    @Test(.timeLimit(.minutes(2))) func signedRequestsAreAccepted() async throws {
        try await withAuthenticatingMoto { aws in
            // moto re-signs the path and query it decoded, so names with characters beyond a space (`ü`, `+`, `:`,
            // `&`, `(`) fail its check even for boto3 (moto 5.2.1); the botocore vectors cover their encoding.
            let model = S3Location(bucket: "greengrass-models", key: "rain models/model v1.zip")
            try await aws.createBucket(model.bucket)
            let etag = try await aws.putObject(model, body: Array("model".utf8))
            var body: [UInt8] = []
            _ = try await aws.getObject(model) { body.append(contentsOf: $0.readableBytesView) }
            #expect(body == Array("model".utf8))
            #expect(try await aws.getObject(model, ifNoneMatch: etag) { _ in } == .notModified(etag: etag ?? ""))

            // Past authentication, SageMaker answers for the job itself.
            let missing = await #expect(throws: AWSError.self) { try await aws.describeTrainingJob("no-such-job") }
            #expect(missing?.code == "ValidationException")

            _ = try await aws.send(
                try aws.request(.iot, method: "POST", path: "/things/bme680-sensor", body: Array("{}".utf8)),
                service: .iot
            )
            // UpdateThingShadow only: moto checks a GET against its query as if it were the body, so GetThingShadow
            // fails its check even for boto3 (moto 5.2.1).
            let document = Array(#"{"state":{"reported":{"rain":false}}}"#.utf8)
            let named = try await aws.updateThingShadow(
                "bme680-sensor",
                shadowName: "weather today",
                document: document
            )
            #expect(String(decoding: named, as: UTF8.self).contains(#""version""#))
            let classic = try await aws.updateThingShadow("bme680-sensor", document: document)
            #expect(String(decoding: classic, as: UTF8.self).contains(#""version""#))
        }
    }

    @Test(.timeLimit(.minutes(2))) func aWrongSecretIsRefusedWithATypedError() async throws {
        try await withAuthenticatingMoto { aws in
            try await aws.createBucket("greengrass-models")
            var wrong = aws
            wrong.credentials.secretAccessKey = "not-the-secret"

            let s3 = await #expect(throws: AWSError.self) {
                try await wrong.getObject(S3Location(bucket: "greengrass-models", key: "model.zip")) { _ in }
            }
            #expect(s3?.code == "SignatureDoesNotMatch")
            #expect(s3?.status == 403)

            let sagemaker = await #expect(throws: AWSError.self) { try await wrong.describeTrainingJob("job") }
            #expect(sagemaker?.code == "SignatureDoesNotMatch")

            var unknown = aws
            unknown.credentials = AWSCredentials(accessKeyID: "AKIAUNKNOWNUNKNOWN00", secretAccessKey: "x")
            let s3Unknown = await #expect(throws: AWSError.self) {
                try await unknown.getObject(S3Location(bucket: "greengrass-models", key: "model.zip")) { _ in }
            }
            #expect(s3Unknown?.code == "InvalidAccessKeyId")
        }
    }

    @Test(.timeLimit(.minutes(2))) func temporaryCredentialsCarryTheirSessionToken() async throws {
        try await withAuthenticatingMoto { aws in
            let trust =
                #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"#
                + #""Action":"sts:AssumeRole"}]}"#
            let role = try await queryCall(
                aws,
                Self.iam,
                ["Action": "CreateRole", "RoleName": "moss-gateway", "AssumeRolePolicyDocument": trust]
            )
            _ = try await queryCall(
                aws,
                Self.iam,
                [
                    "Action": "PutRolePolicy", "RoleName": "moss-gateway", "PolicyName": "all",
                    "PolicyDocument": Self.allowEverything,
                ]
            )
            let assumed = try await queryCall(
                aws,
                Self.sts,
                [
                    "Action": "AssumeRole", "RoleArn": try #require(Self.element("Arn", in: role)),
                    "RoleSessionName": "moss",
                ]
            )
            let token = try #require(Self.element("SessionToken", in: assumed))
            var temporary = aws
            temporary.credentials = AWSCredentials(
                accessKeyID: try #require(Self.element("AccessKeyId", in: assumed)),
                secretAccessKey: try #require(Self.element("SecretAccessKey", in: assumed)),
                sessionToken: token
            )
            #expect(temporary.credentials.accessKeyID.hasPrefix("ASIA"))

            let model = S3Location(bucket: "greengrass-models", key: "model.zip")
            try await temporary.createBucket(model.bucket)
            try await temporary.putObject(model, body: Array("model".utf8))
            _ = try await temporary.getObject(model) { _ in }
            _ = try await temporary.send(
                try temporary.request(.iot, method: "POST", path: "/things/bme680-sensor", body: Array("{}".utf8)),
                service: .iot
            )
            _ = try await temporary.updateThingShadow(
                "bme680-sensor",
                document: Array(#"{"state":{"reported":{"rain":true}}}"#.utf8)
            )

            var wrongToken = temporary
            wrongToken.credentials.sessionToken = "not-the-token"
            let refused = await #expect(throws: AWSError.self) { try await wrongToken.getObject(model) { _ in } }
            #expect(refused?.code == "InvalidToken")
        }
    }
}
