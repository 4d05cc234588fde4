import Foundation
import MossAWS
import Testing

/// The signer against botocore: Fixtures/sigv4.json holds requests botocore signed at a fixed time
/// (scripts/aws/sigv4_vectors.py); signing them here must give the same bytes at every step.
@Suite struct SigV4VectorTests {
    struct Vectors: Decodable {
        struct Credentials: Decodable {
            var accessKeyID: String
            var secretAccessKey: String
            var sessionToken: String
        }
        struct Case: Decodable, CustomTestStringConvertible, Sendable {
            struct Expected: Decodable, Sendable {
                var canonicalRequest: String
                var stringToSign: String
                var authorization: String?
                var addedHeaders: [[String]]?
                var presignedURL: String?
            }
            var name: String
            var signer: String
            var mode: String
            var service: String
            var region: String
            var method: String
            var url: String
            var headers: [[String]]
            var body: String
            var sessionToken: Bool
            var unsignedPayload: Bool
            var expires: Int?
            var expected: Expected
            var testDescription: String { name }
        }
        var epochSeconds: Int
        var credentials: Credentials
        var cases: [Case]
    }

    static let vectors: Vectors = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "Fixtures/sigv4.json"
        )
        return try! JSONDecoder().decode(Vectors.self, from: Data(contentsOf: url))
    }()

    @Test func theFixtureCoversEveryKindOfRequest() {
        let cases = Self.vectors.cases
        #expect(cases.count >= 20)
        #expect(cases.contains { $0.mode == "query" && $0.signer == "s3" })
        #expect(cases.contains { $0.mode == "query" && $0.signer == "standard" })
        #expect(cases.contains { $0.unsignedPayload && $0.signer == "s3" })
        #expect(cases.contains { $0.sessionToken && $0.mode == "header" })
        #expect(cases.contains { $0.service == "iotdata" } && cases.contains { $0.service == "sagemaker" })
    }

    @Test("signs as botocore does", arguments: SigV4VectorTests.vectors.cases)
    func signsAsBotocoreDoes(_ vector: Vectors.Case) throws {
        let credentials = AWSCredentials(
            accessKeyID: Self.vectors.credentials.accessKeyID,
            secretAccessKey: Self.vectors.credentials.secretAccessKey,
            sessionToken: vector.sessionToken ? Self.vectors.credentials.sessionToken : nil
        )
        let signer = SigV4Signer(
            credentials: credentials,
            region: vector.region,
            service: vector.service,
            usesS3Rules: vector.signer == "s3"
        )
        let instant = Date(timeIntervalSince1970: TimeInterval(Self.vectors.epochSeconds))
        var request = try Self.request(vector)

        if vector.mode == "query" {
            let (url, signature) = signer.presign(request, at: instant, expires: try #require(vector.expires))
            #expect(signature.canonicalRequest == vector.expected.canonicalRequest)
            #expect(signature.stringToSign == vector.expected.stringToSign)
            #expect(url == vector.expected.presignedURL)
        } else {
            let before = request.headers.count
            let signature = signer.sign(&request, at: instant, payload: vector.unsignedPayload ? .unsigned : .signed)
            #expect(signature.canonicalRequest == vector.expected.canonicalRequest)
            #expect(signature.stringToSign == vector.expected.stringToSign)
            #expect(signature.authorization == vector.expected.authorization)
            #expect(request.header("Authorization") == vector.expected.authorization)
            let added = request.headers[before...].filter { $0.name != "Authorization" }.map { [$0.name, $0.value] }
            #expect(added == vector.expected.addedHeaders)
        }
    }

    /// The fixture's URL taken apart: endpoint, the path as sent, and the query decoded.
    static func request(_ vector: Vectors.Case) throws -> AWSRequest {
        let url = vector.url
        let schemeEnd = try #require(url.range(of: "://"))
        let afterScheme = url[schemeEnd.upperBound...]
        let pathStart = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? afterScheme.endIndex
        let endpoint = try AWSEndpoint(url: String(url[..<pathStart]))
        let pathAndQuery = url[pathStart...]
        let queryStart = pathAndQuery.firstIndex(of: "?")
        let path = String(pathAndQuery[..<(queryStart ?? pathAndQuery.endIndex)])
        var query: [AWSQueryItem] = []
        if let queryStart {
            for pair in pathAndQuery[pathAndQuery.index(after: queryStart)...].split(separator: "&") {
                let name = pair.prefix { $0 != "=" }
                let value = pair.dropFirst(name.count + 1)
                query.append(AWSQueryItem(AWSURIEncoding.decode(name), AWSURIEncoding.decode(value)))
            }
        }
        return AWSRequest(
            method: vector.method,
            endpoint: endpoint,
            path: path,
            query: query,
            headers: vector.headers.map { AWSHeader($0[0], $0[1]) },
            body: Array(vector.body.utf8)
        )
    }
}
