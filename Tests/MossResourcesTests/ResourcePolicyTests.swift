import MossAWS
import Testing

@testable import MossResources

@Suite struct ResourcePolicyTests {
    @Test(arguments: [
        ("arn:aws:s3:::*greengrass*", "arn:aws:s3:::my-greengrass-models/model.zip", true),
        ("arn:aws:s3:::*greengrass*", "arn:aws:s3:::my-models/model.zip", false),
        ("arn:aws:s3:::*greengrass*", "arn:aws:s3:::my-Greengrass-models/model.zip", false),  // case-sensitive
        ("arn:aws:s3:::models-?/*", "arn:aws:s3:::models-a/x/y.zip", true),
        ("arn:aws:s3:::models-?/*", "arn:aws:s3:::models-ab/x.zip", false),
        ("*", "anything", true),
        ("a*b*c", "abxbxc", true),
        ("a*b*c", "abxbx", false),
        ("", "", true),
    ])
    func wildcardsMatchAsIAMDoes(pattern: String, value: String, expected: Bool) {
        #expect(IAMWildcard.matches(pattern, value) == expected)
    }

    @Test func theManagedPolicyAllowsGreengrassAndSageMakerObjectsOnly() throws {
        let policy = ResourcePolicy()
        for bucket in ["greengrass-models", "my-GreenGrass-bucket", "sagemaker-us-east-1-1234", "SageMaker-x"] {
            try policy.checkRead(S3Location(bucket: bucket, key: "model.tar.gz"))
        }
        let refused = #expect(throws: ResourceError.self) {
            try policy.checkRead(S3Location(bucket: "my-models", key: "model.zip"))
        }
        #expect(refused?.code == .accessNotAllowed)
        // The refusal names the rule and both fixes.
        #expect(refused?.message.contains("AWSGreengrassResourceAccessRolePolicy") == true)
        #expect(refused?.message.contains("rename the bucket") == true)
        #expect(refused?.message.contains("arn:aws:s3:::my-models/*") == true)
    }

    @Test func anInlineStatementExtendsThePolicy() throws {
        let policy = ResourcePolicy(inlineStatements: [
            .init(sid: "Models", actions: ["s3:Get*"], resources: ["arn:aws:s3:::my-models/*"])
        ])
        try policy.checkRead(S3Location(bucket: "my-models", key: "a/model.zip"))
        #expect(throws: ResourceError.self) { try policy.checkRead(S3Location(bucket: "other-models", key: "m.zip")) }
        // An action that does not match allows nothing.
        let putOnly = ResourcePolicy(inlineStatements: [.init(actions: ["s3:PutObject"], resources: ["*"])])
        #expect(throws: ResourceError.self) { try putOnly.checkRead(S3Location(bucket: "my-models", key: "m.zip")) }
    }

    @Test func bucketsWithPeriodsAreRefusedEvenWhenAllowed() {
        let policy = ResourcePolicy(inlineStatements: [.init(actions: ["s3:GetObject"], resources: ["*"])])
        let error = #expect(throws: ResourceError.self) {
            try policy.checkRead(S3Location(bucket: "models.greengrass.example", key: "m.zip"))
        }
        #expect(error?.code == .bucketNameUnsupported)
    }

    @Test func trainingJobsAreAllowedByTheManagedPolicy() throws {
        try ResourcePolicy().checkDescribe(trainingJob: "arn:aws:sagemaker:us-east-1:123456789012:training-job/rain")
    }
}
