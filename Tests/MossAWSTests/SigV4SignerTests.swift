import Foundation
import Testing

@testable import MossAWS

/// The signer's parts, beyond what the botocore vectors cover.
@Suite struct SigV4SignerTests {
    @Test(arguments: [
        (0.0, "19700101T000000Z"),
        (951_782_400.0, "20000229T000000Z"),
        (1_768_480_496.9, "20260115T123456Z"),
        (4_102_444_799.0, "20991231T235959Z"),
        (4_107_542_400.0, "21000301T000000Z"),
        (-1.0, "19691231T235959Z"),
    ])
    func timestamps(seconds: Double, expected: String) {
        #expect(SigV4Timestamp(Date(timeIntervalSince1970: seconds)).dateTime == expected)
    }

    @Test(arguments: [
        ("/", "/"), ("", "/"), ("/a/./b/../c", "/a/c"), ("/a//b/", "/a/b/"), ("/../..", "/"), ("/a/b/..", "/a"),
        ("/./", "/"),
    ])
    func dotSegments(path: String, expected: String) {
        #expect(SigV4Signer.removingDotSegments(path) == expected)
    }

    @Test func signingAgainReplacesTheSignatureHeaders() {
        let signer = SigV4Signer(
            credentials: AWSCredentials(accessKeyID: "AKID", secretAccessKey: "secret", sessionToken: "token"),
            region: "us-east-1",
            service: "s3"
        )
        var request = AWSRequest(method: "GET", endpoint: AWSEndpoint(host: "b.s3.us-east-1.amazonaws.com"), path: "/k")
        signer.sign(&request, at: Date(timeIntervalSince1970: 0))
        let first = request.header("Authorization")
        signer.sign(&request, at: Date(timeIntervalSince1970: 60))
        for name in ["Authorization", "X-Amz-Date", "X-Amz-Security-Token", "X-Amz-Content-SHA256"] {
            #expect(request.headerValues(name).count == 1, "\(name)")
        }
        #expect(request.header("Authorization") != first)
        #expect(request.header("X-Amz-Date") == "19700101T000100Z")
    }

    @Test func uriEncoding() {
        #expect(AWSURIEncoding.encode("a b/c+ü~") == "a%20b%2Fc%2B%C3%BC~")
        #expect(AWSURIEncoding.encode("a b/c", keepingSlashes: true) == "a%20b/c")
        #expect(AWSURIEncoding.decode("a%20b%2fc%zz%") == "a b/c%zz%")
    }

    @Test func requestURLs() {
        let request = AWSRequest(
            method: "GET",
            endpoint: AWSEndpoint(scheme: "http", host: "127.0.0.1", port: 5000),
            path: "/things/t/shadow",
            query: [AWSQueryItem("name", "a b"), AWSQueryItem("acl")]
        )
        #expect(request.url == "http://127.0.0.1:5000/things/t/shadow?name=a%20b&acl=")
    }
}
