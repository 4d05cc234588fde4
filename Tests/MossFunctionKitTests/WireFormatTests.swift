import Foundation
import Testing

@testable import MossFunctionKit

@Suite("client context, errors and paths on the wire") struct WireFormatTests {
    @Test func aClientContextRoundTripsThroughItsHeader() throws {
        let context = ClientContext(custom: ["subject": .string("$aws/things/t/shadow/get"), "n": .number(2)])
        let header = context.headerValue
        let decoded = try #require(Data(base64Encoded: header))
        // The shadow topic's slashes stay as they are, and `custom` is the only member, as greengrasssdk sends it.
        #expect(String(decoding: decoded, as: UTF8.self) == #"{"custom":{"n":2,"subject":"$aws/things/t/shadow/get"}}"#)
        #expect(try ClientContext(headerValue: header) == context)
        #expect(try ClientContext(headerValue: header).subject == "$aws/things/t/shadow/get")
    }

    @Test func aClientContextFromTheCoreOrPythonDecodes() throws {
        // What FunctionRouting sends for a routed message, and what greengrasssdk's publish sends.
        let routed = Data(#"{"custom":{"subject":"in/a"}}"#.utf8).base64EncodedString()
        #expect(try ClientContext(headerValue: routed).subject == "in/a")
        let python = Data(#"{"custom": {"source": "arn", "subject": "t", "queueFullPolicy": ""}, "client": null}"#.utf8)
        #expect(try ClientContext(headerValue: python.base64EncodedString()).custom["queueFullPolicy"] == .string(""))
        #expect(try ClientContext(headerValue: "") == ClientContext())
        #expect(try ClientContext(headerValue: Data("{}".utf8).base64EncodedString()) == ClientContext())
    }

    @Test func aMalformedClientContextSaysWhy() {
        #expect(throws: ClientContextError.self) { try ClientContext(headerValue: "%%%") }
        do {
            _ = try ClientContext(headerValue: Data("[1]".utf8).base64EncodedString())
            Issue.record("a JSON array was accepted as a client context")
        } catch {
            #expect(error.problem.contains("custom"))
        }
    }

    @Test func aShadowReplyWithCodeAndMessageIsAnError() {
        let error = ShadowError(reply: Array(#"{"code":404,"message":"No shadow exists with name: 't'"}"#.utf8))
        #expect(error == ShadowError(code: 404, message: "No shadow exists with name: 't'"))
        let withTimestamp = ShadowError(
            reply: Array(#"{"code":400,"message":"Payload contains invalid json","timestamp":1}"#.utf8)
        )
        #expect(withTimestamp?.code == 400)
        // A document is not an error, even one whose state holds a `code`.
        #expect(ShadowError(reply: Array(#"{"state":{"reported":{"code":1,"message":"x"}},"version":1}"#.utf8)) == nil)
        #expect(ShadowError(reply: Array(#"{"code":404}"#.utf8)) == nil)
        #expect(ShadowError(reply: []) == nil)
    }

    @Test func aFunctionErrorCarriesTheHandlersMessage() {
        let handled = FunctionInvocationError(
            kind: "Handled",
            payload: Array(#"{"errorMessage":"boom","errorType":"E"}"#.utf8)
        )
        #expect(handled.errorMessage == "boom")
        #expect(handled.description == "Handled function error: boom")
        let unhandled = FunctionInvocationError(
            kind: "Unhandled",
            payload: Array("Task timed out after 3 seconds".utf8)
        )
        #expect(unhandled.errorMessage == "Task timed out after 3 seconds")
    }

    @Test func aHandlersErrorIsPostedAsThePythonRuntimePostsIt() throws {
        struct Broken: Error, CustomStringConvertible {
            var description: String { "the sensor is broken" }
        }
        let document =
            try JSONSerialization.jsonObject(with: Data(RuntimeLoop.errorDocument(Broken()))) as? [String: Any]
        #expect(document?["errorMessage"] as? String == "the sensor is broken")
        #expect(document?["errorType"] as? String == "Broken")
        #expect((document?["stackTrace"] as? [Any])?.isEmpty == true)
        let report = try JSONSerialization.jsonObject(
            with: Data(RuntimeLoop.initializationReport(success: true, response: ""))
        )
        #expect((report as? [String: Any])?["Success"] as? Bool == true)
        #expect((report as? [String: Any])?["Response"] as? String == "")
    }

    @Test func functionARNsGoIntoThePathAsThePythonClientPutsThem() {
        #expect(
            IPCTransport.functionsPath("arn:aws:lambda:us-east-1:123:function:f:$LATEST")
                == "/2016-11-01/functions/arn:aws:lambda:us-east-1:123:function:f:$LATEST"
        )
        #expect(IPCTransport.functionsPath("a b/c") == "/2016-11-01/functions/a%20b%2Fc")
    }

    @Test func functionARNsParse() throws {
        let arn = try #require(FunctionARN("arn:aws:lambda:eu-west-1:123456789012:function:repub:3"))
        #expect(arn == FunctionARN(region: "eu-west-1", account: "123456789012", name: "repub", qualifier: "3"))
        #expect(arn.description == "arn:aws:lambda:eu-west-1:123456789012:function:repub:3")
        #expect(FunctionARN("arn:aws:lambda:::function:GGRouter")?.qualifier == nil)
        #expect(FunctionARN("arn:aws:lambda:::function:GGRouter")?.name == "GGRouter")
        for wrong in [
            "", "repub", "arn:aws:s3:::bucket", "arn:aws:lambda:r:a:function:", "arn:aws:lambda:r:a:function:n:",
        ] {
            #expect(FunctionARN(wrong) == nil, "\(wrong)")
        }
    }
}
