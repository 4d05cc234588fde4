/// What the host needs to run one function: built by MossCore from the deployed group (MossFunctions does not
/// read group files), so this module stays independent of MossDeploy.
public struct FunctionSpec: Sendable, Hashable {
    /// `arn:aws:lambda:REGION:ACCOUNT:function:NAME:VERSION`: the name workers and invokers use.
    public var arn: String
    public var name: String
    /// The program and arguments that start one worker (e.g. python3, lambda_runtime.py, --handler=m.f).
    public var command: [String]
    /// The worker's working directory (the function's code).
    public var workingDirectory: String
    /// Variables beyond those the host sets for the IPC (the group's, V1's informational ones, PYTHONPATH).
    public var environment: [String: String]
    public var pinned: Bool
    /// Seconds one invocation may take before the worker is killed and the caller gets `Unhandled`.
    public var timeoutSeconds: Int
    /// `json` or `binary` (V1's ENCODING_TYPE).
    public var encodingType: String
    /// Where the worker's stdout and stderr go.
    public var logFile: String
    /// The log file's bound (the group's Lambda logger `Space`; V1's default 128 KB).
    public var logLimitBytes: Int
    /// Set for GreengrassContainer functions: the container every worker runs in (its command, working directory
    /// and environment replace the fields above, which then describe the host side only).
    public var container: ContainerSpec?
    /// The worker's memory limit (the group's memorySize); nil for none.
    public var memoryLimitBytes: Int?
    /// Who the worker runs as; nil keeps the daemon's user (Moss does not run as root).
    public var user: FunctionUser?

    public init(
        arn: String,
        name: String,
        command: [String],
        workingDirectory: String,
        environment: [String: String] = [:],
        pinned: Bool = false,
        timeoutSeconds: Int = 3,
        encodingType: String = "json",
        logFile: String,
        container: ContainerSpec? = nil,
        memoryLimitBytes: Int? = nil,
        user: FunctionUser? = nil,
        logLimitBytes: Int = 128 * 1024
    ) {
        self.logLimitBytes = logLimitBytes
        self.user = user
        self.container = container
        self.memoryLimitBytes = memoryLimitBytes
        self.arn = arn
        self.name = name
        self.command = command
        self.workingDirectory = workingDirectory
        self.environment = environment
        self.pinned = pinned
        self.timeoutSeconds = timeoutSeconds
        self.encodingType = encodingType
        self.logFile = logFile
    }
}

/// The core's limits for on-demand workers (V1's `runtime` section of config.json).
public struct FunctionHostLimits: Sendable, Hashable {
    /// Concurrent on-demand workers across all functions (V1's maxConcurrentLimit, default 25).
    public var maximumConcurrentWorkers: Int
    /// Invocations waiting for a worker across all functions (V1's maxWorkItemCount, default 1024).
    public var maximumQueuedInvocations: Int
    /// A pinned worker that exits is restarted after a backoff that doubles up to this (about 10 s).
    public var maximumRestartBackoff: Duration

    public init(
        maximumConcurrentWorkers: Int = 25,
        maximumQueuedInvocations: Int = 1024,
        maximumRestartBackoff: Duration = .seconds(10)
    ) {
        self.maximumConcurrentWorkers = maximumConcurrentWorkers
        self.maximumQueuedInvocations = maximumQueuedInvocations
        self.maximumRestartBackoff = maximumRestartBackoff
    }
}
