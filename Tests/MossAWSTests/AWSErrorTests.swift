import MossAWS
import Testing

@Suite struct AWSErrorTests {
    @Test func s3XML() {
        let body = """
            <?xml version="1.0" encoding="UTF-8"?>
            <Error><Code>NoSuchKey</Code><Message>The specified key does not exist &amp; never did.</Message>\
            <Key>model.zip</Key><RequestId>4442587FB7D0A2F9</RequestId><HostId>abc</HostId></Error>
            """
        let error = AWSError(service: "s3", status: 404, headers: [], body: Array(body.utf8))
        #expect(error.code == "NoSuchKey")
        #expect(error.message == "The specified key does not exist & never did.")
        #expect(error.requestID == "4442587FB7D0A2F9")
        #expect(
            error.description
                == "s3 NoSuchKey (HTTP 404): The specified key does not exist & never did. [request id 4442587FB7D0A2F9]"
        )
    }

    @Test func aWrongRegionIsNamed() {
        let error = AWSError(
            service: "s3",
            status: 301,
            headers: [AWSHeader("x-amz-bucket-region", "eu-west-1")],
            body: Array(
                "<Error><Code>PermanentRedirect</Code><Message>Use the specified endpoint.</Message></Error>".utf8
            )
        )
        #expect(error.code == "PermanentRedirect")
        #expect(error.message == "Use the specified endpoint. (the bucket is in eu-west-1)")
    }

    @Test func theRequestIDHeaderWins() {
        let error = AWSError(
            service: "s3",
            status: 403,
            headers: [AWSHeader("X-Amz-Request-Id", "HEADERID")],
            body: Array(
                "<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>BODYID</RequestId></Error>"
                    .utf8
            )
        )
        #expect(error.code == "AccessDenied" && error.requestID == "HEADERID")
    }

    @Test func json11() {
        let body =
            #"{"__type":"com.amazonaws.sagemaker#ValidationException","message":"Requested resource not found."}"#
        let error = AWSError(
            service: "sagemaker",
            status: 400,
            headers: [AWSHeader("x-amzn-RequestId", "req-1")],
            body: Array(body.utf8)
        )
        #expect(error.code == "ValidationException")
        #expect(error.message == "Requested resource not found.")
        #expect(error.requestID == "req-1")
    }

    @Test func restJSONHeader() {
        let error = AWSError(
            service: "iotdata",
            status: 404,
            headers: [
                AWSHeader(
                    "x-amzn-ErrorType",
                    "ResourceNotFoundException:http://internal.amazon.com/coral/com.amazon.iotdata/"
                )
            ],
            body: Array(#"{"message":"No shadow exists with name: 'bme680'"}"#.utf8)
        )
        #expect(error.code == "ResourceNotFoundException")
        #expect(error.message == "No shadow exists with name: 'bme680'")
    }

    @Test func noBodyAsForHEAD() {
        let error = AWSError(service: "s3", status: 404, headers: [], body: [])
        #expect(error.code == "404" && error.message == "Not Found" && error.requestID == nil)
    }

    @Test func somethingElse() {
        let error = AWSError(service: "s3", status: 502, headers: [], body: Array("Bad gateway".utf8))
        #expect(error.code == "502" && error.message == "Bad gateway")
    }
}
