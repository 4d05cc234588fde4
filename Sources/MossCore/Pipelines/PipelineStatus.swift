/// What `moss status` shows of one pipeline.
public struct PipelineStatus: Codable, Sendable, Hashable {
    public var id: String
    /// `shadow:THING` or `messages`.
    public var input: String
    /// `shadow:THING` or `topic:TOPIC`.
    public var output: String
    public var runs: UInt64
    public var failures: UInt64
    /// Messages dropped because the pipeline was still busy with many before them.
    public var dropped: UInt64
    /// The last result written (the thresholded class, or the raw output) and the raw score.
    public var lastResult: [Double]?
    public var lastScore: [Double]?
    /// Seconds since the epoch.
    public var lastRunAt: Double?
    public var lastError: String?
}
