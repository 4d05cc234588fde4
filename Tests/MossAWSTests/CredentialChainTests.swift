import Foundation
import MossAWS
import MossTestSupport
import Testing

/// The credentials chain over an injected environment and temporary files; the real environment is never read.
@Suite struct CredentialChainTests {
    private func write(_ text: String, to path: String) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true
        )
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    @Test func theEnvironmentComesFirst() async throws {
        try await withTemporaryDirectory { home in
            try write(
                "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = filesecret\n",
                to: "\(home)/.aws/credentials"
            )
            let chain = AWSCredentialChain(environment: [
                "HOME": home, "AWS_ACCESS_KEY_ID": "ENVKEY", "AWS_SECRET_ACCESS_KEY": "envsecret",
                "AWS_SESSION_TOKEN": "token",
            ])
            let (credentials, source) = try chain.resolve()
            #expect(
                credentials
                    == AWSCredentials(accessKeyID: "ENVKEY", secretAccessKey: "envsecret", sessionToken: "token")
            )
            #expect(source == "environment")
        }
    }

    @Test func halfTheEnvironmentIsAnError() throws {
        let error = #expect(throws: AWSCredentialsError.self) {
            try AWSCredentialChain(environment: ["AWS_ACCESS_KEY_ID": "ENVKEY"]).resolve()
        }
        #expect(error?.reason == .incomplete)
        #expect(error?.description.contains("AWS_SECRET_ACCESS_KEY is not") == true)
    }

    @Test func theSharedCredentialsFileByProfile() async throws {
        try await withTemporaryDirectory { home in
            try write(
                """
                # comment
                [default]
                aws_access_key_id = DEFAULTKEY
                aws_secret_access_key = defaultsecret

                [gateway]
                AWS_ACCESS_KEY_ID=GATEWAYKEY
                aws_secret_access_key: gateway/secret+with=chars
                aws_session_token = gatewaytoken
                ; another comment
                """,
                to: "\(home)/.aws/credentials"
            )
            let byDefault = try AWSCredentialChain(environment: ["HOME": home]).resolve()
            #expect(byDefault.credentials.accessKeyID == "DEFAULTKEY")
            #expect(byDefault.source == "\(home)/.aws/credentials [default]")

            let byVariable = try AWSCredentialChain(environment: ["HOME": home, "AWS_PROFILE": "gateway"]).resolve()
            #expect(
                byVariable.credentials
                    == AWSCredentials(
                        accessKeyID: "GATEWAYKEY",
                        secretAccessKey: "gateway/secret+with=chars",
                        sessionToken: "gatewaytoken"
                    )
            )
            let explicit = try AWSCredentialChain(environment: ["HOME": home], profile: "gateway").resolve()
            #expect(explicit.credentials.accessKeyID == "GATEWAYKEY")
        }
    }

    @Test func anExplicitProfileSkipsTheEnvironmentButAWSProfileDoesNot() async throws {
        try await withTemporaryDirectory { home in
            try write(
                "[gateway]\naws_access_key_id = FILEKEY\naws_secret_access_key = s\n",
                to: "\(home)/.aws/credentials"
            )
            let environment = ["HOME": home, "AWS_ACCESS_KEY_ID": "ENVKEY", "AWS_SECRET_ACCESS_KEY": "e"]
            #expect(
                try AWSCredentialChain(environment: environment, profile: "gateway").resolve().credentials.accessKeyID
                    == "FILEKEY"
            )
            var withVariable = environment
            withVariable["AWS_PROFILE"] = "gateway"
            #expect(try AWSCredentialChain(environment: withVariable).resolve().credentials.accessKeyID == "ENVKEY")
        }
    }

    @Test func theConfigFileWithProfileSections() async throws {
        try await withTemporaryDirectory { home in
            try write(
                """
                [default]
                region = eu-west-1
                aws_access_key_id = CONFIGDEFAULT
                aws_secret_access_key = s1

                [profile gateway]
                region = eu-central-1
                s3 =
                    addressing_style = path
                aws_access_key_id = CONFIGGATEWAY
                aws_secret_access_key = s2

                [gateway]
                aws_access_key_id = NOTAPROFILEINCONFIG
                aws_secret_access_key = s3
                """,
                to: "\(home)/.aws/config"
            )
            let byDefault = AWSCredentialChain(environment: ["HOME": home])
            #expect(try byDefault.resolve().credentials.accessKeyID == "CONFIGDEFAULT")
            #expect(try byDefault.resolve().source == "\(home)/.aws/config [default]")
            #expect(byDefault.region() == "eu-west-1")

            let gateway = AWSCredentialChain(environment: ["HOME": home], profile: "gateway")
            #expect(try gateway.resolve().credentials.accessKeyID == "CONFIGGATEWAY")
            #expect(try gateway.resolve().source == "\(home)/.aws/config [profile gateway]")
            #expect(gateway.region() == "eu-central-1")
            #expect(
                AWSCredentialChain(environment: ["HOME": home, "AWS_REGION": "ap-south-1"]).region() == "ap-south-1"
            )
            #expect(
                AWSCredentialChain(environment: ["HOME": home, "AWS_DEFAULT_REGION": "us-west-2"]).region()
                    == "us-west-2"
            )
        }
    }

    @Test func theCredentialsFileWinsOverTheConfigFile() async throws {
        try await withTemporaryDirectory { home in
            try write(
                "[default]\naws_access_key_id = CREDENTIALS\naws_secret_access_key = s\n",
                to: "\(home)/.aws/credentials"
            )
            try write("[default]\naws_access_key_id = CONFIG\naws_secret_access_key = s\n", to: "\(home)/.aws/config")
            #expect(
                try AWSCredentialChain(environment: ["HOME": home]).resolve().credentials.accessKeyID == "CREDENTIALS"
            )
        }
    }

    @Test func filesNamedByVariablesWithATilde() async throws {
        try await withTemporaryDirectory { home in
            try write("[default]\naws_access_key_id = ELSEWHERE\naws_secret_access_key = s\n", to: "\(home)/moss/creds")
            try write("[default]\nregion = sa-east-1\n", to: "\(home)/moss/conf")
            let chain = AWSCredentialChain(environment: [
                "HOME": home, "AWS_SHARED_CREDENTIALS_FILE": "~/moss/creds", "AWS_CONFIG_FILE": "\(home)/moss/conf",
            ])
            #expect(chain.credentialsFilePath == "\(home)/moss/creds")
            #expect(try chain.resolve().credentials.accessKeyID == "ELSEWHERE")
            #expect(chain.region() == "sa-east-1")
        }
    }

    @Test func nothingFoundNamesEveryPlaceLookedAt() async throws {
        try await withTemporaryDirectory { home in
            try write("[other]\naws_access_key_id = K\naws_secret_access_key = s\n", to: "\(home)/.aws/credentials")
            let error = #expect(throws: AWSCredentialsError.self) {
                try AWSCredentialChain(environment: ["HOME": home]).resolve()
            }
            #expect(error?.reason == .notFound)
            let text = error?.description ?? ""
            #expect(text.contains("profile 'default'"))
            #expect(text.contains("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set"))
            #expect(text.contains("\(home)/.aws/credentials has no [default] section"))
            #expect(text.contains("\(home)/.aws/config does not exist"))
        }
    }

    @Test func anUnknownProfileIsNamed() async throws {
        try await withTemporaryDirectory { home in
            let error = #expect(throws: AWSCredentialsError.self) {
                try AWSCredentialChain(environment: ["HOME": home, "AWS_PROFILE": "missing"]).resolve()
            }
            #expect(error?.reason == .profileNotFound)
            #expect(error?.description.contains("AWS profile 'missing' not found") == true)
        }
    }

    @Test func noHomeAndNoVariables() {
        let error = #expect(throws: AWSCredentialsError.self) { try AWSCredentialChain(environment: [:]).resolve() }
        #expect(error?.description.contains("AWS_SHARED_CREDENTIALS_FILE and HOME are not set") == true)
    }

    @Test func aProfileWithOnlyAnAccessKeyIsIncomplete() async throws {
        try await withTemporaryDirectory { home in
            try write("[default]\naws_access_key_id = K\n", to: "\(home)/.aws/credentials")
            let error = #expect(throws: AWSCredentialsError.self) {
                try AWSCredentialChain(environment: ["HOME": home]).resolve()
            }
            #expect(error?.reason == .incomplete)
            #expect(
                error?.description
                    == "\(home)/.aws/credentials [default] has aws_access_key_id but no aws_secret_access_key"
            )
        }
    }

    @Test(arguments: [
        ("role_arn = arn:aws:iam::123456789012:role/r\nsource_profile = default", "role_arn (assume-role)"),
        ("sso_session = my-sso", "SSO"),
        ("credential_process = /usr/bin/creds", "credential_process"),
        ("credential_source = Ec2InstanceMetadata", "instance metadata"),
    ])
    func unsupportedSourcesSaySo(settings: String, named: String) async throws {
        try await withTemporaryDirectory { home in
            try write("[profile ops]\n\(settings)\n", to: "\(home)/.aws/config")
            let error = #expect(throws: AWSCredentialsError.self) {
                try AWSCredentialChain(environment: ["HOME": home], profile: "ops").resolve()
            }
            #expect(error?.reason == .unsupported)
            #expect(error?.description.contains(named) == true)
            #expect(error?.description.contains("not support") == true)
        }
    }

    @Test func descriptionsNeverShowTheSecret() {
        let credentials = AWSCredentials(accessKeyID: "AKID", secretAccessKey: "topsecret", sessionToken: "tok")
        #expect(!String(describing: credentials).contains("topsecret"))
        #expect(!String(describing: credentials).contains("tok)"))
        #expect(String(describing: credentials).contains("AKID"))
    }
}
