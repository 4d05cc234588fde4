import Foundation
import Testing

@testable import MossFunctionKit

@Suite("JSON handlers") struct HandlerTests {
    struct Reading: Decodable, Sendable {
        var temperature: Double
        var label: String?
    }

    struct Labelled: Decodable, Sendable {
        var label: String?
    }

    let context = FunctionContext(
        functionARN: FunctionARN(region: "r", account: "a", name: "f", qualifier: "1"),
        invocationID: "id",
        clientContext: ClientContext(custom: ["subject": .string("in/a")]),
        deadline: ContinuousClock.now.advanced(by: .seconds(3)),
        client: FunctionClient(
            environment: try! FunctionEnvironment([
                "MY_FUNCTION_ARN": "arn:aws:lambda:r:a:function:f:1",
                "AWS_CONTAINER_AUTHORIZATION_TOKEN": "t",
                "ENCODING_TYPE": "json",
            ])
        )
    )

    @Test func theEventIsDecodedAndTheOutputEncoded() async throws {
        let handler = JSONHandler { (reading: Reading, context: FunctionContext) in
            ["doubled": JSONValue.number(reading.temperature * 2), "subject": .string(context.subject ?? "none")]
        }
        let result = try await handler.handle(Array(#"{"temperature": 21.5}"#.utf8), context: context)
        let decoded = try JSONDecoder().decode([String: JSONValue].self, from: Data(result))
        #expect(decoded == ["doubled": .number(43), "subject": .string("in/a")])
    }

    @Test func anEmptyPayloadIsAnEmptyObjectAndNoOutputIsNull() async throws {
        let handler = JSONHandler { (event: Labelled, _: FunctionContext) in
            #expect(event.label == nil)
            return NoOutput()
        }
        #expect(try await handler.handle([], context: context) == Array("null".utf8))
        #expect(try await handler.handle(Array(" \n".utf8), context: context) == Array("null".utf8))
    }

    @Test func aHandlerReturningNothingPostsNull() async throws {
        actor Seen {
            var events: [String] = []
            func add(_ event: String) { events.append(event) }
        }
        let seen = Seen()
        // The shape of Examples/README.md's handler: several statements, no return type.
        let handler = JSONHandler { (event: Labelled, context: FunctionContext) in
            let label = event.label ?? "none"
            await seen.add(label + " " + (context.subject ?? ""))
        }
        #expect(try await handler.handle(Array(#"{"label": "a"}"#.utf8), context: context) == Array("null".utf8))
        #expect(await seen.events == ["a in/a"])
    }

    @Test func anEventThatDoesNotDecodeIsAnErrorNamingTheType() async {
        let handler = JSONHandler { (reading: Reading, _: FunctionContext) in reading.temperature }
        await #expect(throws: EventDecodingError.self) {
            try await handler.handle(Array(#"{"temperature": "hot"}"#.utf8), context: context)
        }
        do {
            _ = try await handler.handle(Array("not json".utf8), context: context)
        } catch {
            #expect("\(error)".hasPrefix("the payload is not a Reading"))
        }
    }

    @Test func theContextDescribesTheInvocation() {
        #expect(context.functionName == "f" && context.functionVersion == "1" && context.invocationID == "id")
        #expect(context.remainingTime > .zero && context.remainingTime <= .seconds(3))
        let late = FunctionContext(
            functionARN: FunctionARN(region: "", account: "", name: "g"),
            invocationID: "x",
            clientContext: ClientContext(),
            deadline: ContinuousClock.now.advanced(by: .seconds(-1)),
            client: context.client
        )
        #expect(late.remainingTime == .zero && late.functionVersion == "$LATEST" && late.subject == nil)
    }
}
