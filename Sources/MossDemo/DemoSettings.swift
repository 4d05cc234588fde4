/// What `moss demo` runs with: every value has the tutorial's default; tests shorten the intervals.
public struct DemoSettings: Sendable {
    public var dataDirectory: String = "./moss-demo"
    /// Seconds between sensor readings (the tutorial's sensor: 2).
    public var readingInterval: Double = 2
    /// Seconds between predictions, for the function and the pipeline alike (the tutorial's: 10).
    public var inferenceInterval: Double = 10
    /// Seconds for one dry → rain → dry weather cycle.
    public var weatherCycle: Double = 120
    /// The sensor stops after this many readings (nil: never), so that both predictors end on the same state.
    public var readingLimit: Int?
    public var seed: UInt64 = 1
    /// Sync the sensor's shadow with AWS IoT (needs the cloud in the core configuration).
    public var cloud = false
    /// No Python functions: the declarative pipeline alone, reading the sensor's messages (what the demo also does
    /// when greengrasssdk cannot be installed).
    public var pipelineOnly = false

    public init() {}
}
