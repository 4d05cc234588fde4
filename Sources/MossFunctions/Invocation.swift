import Foundation

/// One invocation of a function, from the caller's POST to the worker's result.
struct Invocation: Sendable {
    enum Kind: String, Sendable {
        case event = "Event"
        case requestResponse = "RequestResponse"
    }

    let id: String
    let functionARN: String
    let kind: Kind
    let payload: [UInt8]
    /// Base64 JSON, passed to the worker unchanged in X-Amz-Client-Context.
    let clientContext: String
}

/// What a function (or the core on its behalf) answered.
public struct InvocationResult: Sendable, Hashable {
    /// The `X-Amz-Function-Error` value: empty on success, `Handled` (the handler raised) or `Unhandled`
    /// (timeout, crash, killed: detected by the core).
    public var functionError: String
    public var payload: [UInt8]

    public init(functionError: String = "", payload: [UInt8]) {
        self.functionError = functionError
        self.payload = payload
    }

    public static func unhandled(_ message: String) -> InvocationResult {
        let body = ["errorMessage": message, "errorType": "Unhandled"]
        let payload = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
        return InvocationResult(functionError: "Unhandled", payload: Array(payload))
    }

}
