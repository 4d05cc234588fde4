/// One invocation as the handler sees it (the Python runtime's `LambdaContext`).
public struct FunctionContext: Sendable {
    /// This function's ARN (`MY_FUNCTION_ARN`).
    public let functionARN: FunctionARN
    /// The invocation's id, assigned by the core (`aws_request_id`).
    public let invocationID: String
    /// The invocation's client context; `clientContext.subject` is the MQTT topic of a routed message.
    public let clientContext: ClientContext
    /// When the core's timeout for this invocation runs out: its arrival plus `MOSS_FUNCTION_TIMEOUT_MS`.
    public let deadline: ContinuousClock.Instant
    /// The client for publishing, shadows and invoking other functions.
    public let client: FunctionClient

    public init(
        functionARN: FunctionARN,
        invocationID: String,
        clientContext: ClientContext,
        deadline: ContinuousClock.Instant,
        client: FunctionClient
    ) {
        self.functionARN = functionARN
        self.invocationID = invocationID
        self.clientContext = clientContext
        self.deadline = deadline
        self.client = client
    }

    public var functionName: String { functionARN.name }

    /// The ARN's qualifier, `$LATEST` when it has none.
    public var functionVersion: String { functionARN.qualifier ?? "$LATEST" }

    /// `clientContext.subject`: the topic a routed message arrived on.
    public var subject: String? { clientContext.subject }

    /// Time left before the core stops this invocation; never negative.
    public var remainingTime: Duration {
        max(.zero, ContinuousClock.now.duration(to: deadline))
    }
}
