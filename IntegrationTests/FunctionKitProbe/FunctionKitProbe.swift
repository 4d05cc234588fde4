// A function for IntegrationTests/test_function_kit.py: on each invocation it exercises MossFunctionKit's shadow
// calls and function-to-function invocation, and publishes what it saw on `probe/out`. With HEARTBEAT_TOPIC set
// (deployed pinned) it also publishes a heartbeat with its pid there from a loop of its own.
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
        let heartbeatTopic = ProcessInfo.processInfo.environment["HEARTBEAT_TOPIC"]
        await withDiscardingTaskGroup { group in
            if let heartbeatTopic {
                group.addTask { await heartbeat(on: heartbeatTopic) }
            }
            await FunctionRuntime.run { (command: Command, context: FunctionContext) -> Report in
                try await handle(command, context)
            }
        }
    }

    /// A pinned function's own loop, beside the runtime's: a client of its own, publishing while the runtime
    /// long-polls for work, as the tutorial's inference function loops at module level.
    static func heartbeat(on topic: String) async {
        guard let client = try? FunctionClient() else { return }
        let pid = ProcessInfo.processInfo.processIdentifier
        var beat = 0
        while !Task.isCancelled {
            beat += 1
            try? await client.publish(topic: topic, payload: #"{"beat":\#(beat),"pid":\#(pid)}"#)
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    static func handle(_ command: Command, _ context: FunctionContext) async throws -> Report {
        let client = context.client
        var report = Report(
            subject: context.subject,
            functionName: context.functionName,
            remainingMilliseconds: Int64(context.remainingTime / .milliseconds(1))
        )
        // No subscription routes this topic (the route to the sensor is `probe/+`): no device may see it.
        try await client.publish(topic: "probe/unrouted/x", payload: "nobody may see this")

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
