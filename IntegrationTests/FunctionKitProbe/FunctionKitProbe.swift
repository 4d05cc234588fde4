// A function for IntegrationTests/test_function_kit.py: on each invocation it exercises MossFunctionKit's shadow
// calls and function-to-function invocation, and publishes what it saw on `probe/out`.
import MossFunctionKit

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What the test sends on `probe/in`.
struct Command: Decodable, Sendable {
    /// A thing whose shadows the probe creates, reads and deletes.
    var thing: String
    /// A function (by name, same region, account and version as the probe) to invoke with `event`.
    var invoke: String
    var event: JSONValue
    /// An event the invoked function fails on.
    var badEvent: JSONValue
}

/// What the probe publishes on `probe/out` (and returns).
struct Report: Codable, Sendable {
    var subject: String?
    var functionName: String
    var remainingMilliseconds: Int64
    var updated: JSONValue?
    var got: JSONValue?
    var named: JSONValue?
    var deleted: JSONValue?
    var missing: [String: JSONValue]?
    var invalid: [String: JSONValue]?
    var invoked: JSONValue?
    var failed: [String: JSONValue]?
}

func json(_ bytes: [UInt8]) throws -> JSONValue {
    try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
}

func shadowFailure(_ body: () async throws -> [UInt8]) async throws -> [String: JSONValue] {
    do {
        _ = try await body()
        return ["code": .null]
    } catch let error as ShadowError {
        return ["code": .number(Double(error.code)), "message": .string(error.message)]
    }
}

@main
struct FunctionKitProbe {
    static func main() async {
        await FunctionRuntime.run { (command: Command, context: FunctionContext) -> Report in
            let client = context.client
            var report = Report(
                subject: context.subject,
                functionName: context.functionName,
                remainingMilliseconds: Int64(context.remainingTime / .milliseconds(1))
            )
            // No subscription routes this topic: no device may see it.
            try await client.publish(topic: "probe/unrouted", payload: "nobody may see this")

            let update = #"{"state":{"reported":{"probe":1}}}"#
            report.updated = try json(try await client.updateThingShadow(thingName: command.thing, payload: update))
            report.got = try json(try await client.getThingShadow(thingName: command.thing))
            _ = try await client.updateThingShadow(thingName: command.thing, shadowName: "config", payload: update)
            report.named = try json(try await client.getThingShadow(thingName: command.thing, shadowName: "config"))
            report.deleted = try json(try await client.deleteThingShadow(thingName: command.thing))
            report.missing = try await shadowFailure { try await client.getThingShadow(thingName: command.thing) }
            report.invalid = try await shadowFailure {
                try await client.updateThingShadow(thingName: command.thing, payload: "not a document")
            }

            let own = context.functionARN
            let target = FunctionARN(
                region: own.region,
                account: own.account,
                name: command.invoke,
                qualifier: own.qualifier
            )
            let encoder = JSONEncoder()
            report.invoked = try json(
                try await client.invoke(
                    functionARN: target.description,
                    payload: Array(try encoder.encode(command.event))
                )
            )
            do {
                _ = try await client.invoke(
                    functionARN: target.description,
                    payload: Array(try encoder.encode(command.badEvent))
                )
                report.failed = ["kind": .null]
            } catch let error as FunctionInvocationError {
                report.failed = ["kind": .string(error.kind), "message": .string(error.errorMessage)]
            }

            encoder.outputFormatting = [.sortedKeys]
            try await client.publish(topic: "probe/out", payload: Array(try encoder.encode(report)))
            return report
        }
    }
}
