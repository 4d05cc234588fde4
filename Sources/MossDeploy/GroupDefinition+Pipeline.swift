extension GroupDefinition {
    /// A declarative inference step (a Moss addition; V1 needed a function for this): numbers taken from a shadow's
    /// reported state or from a message, run through machine learning resources in order, and the result written to
    /// a shadow's reported state or published on a topic. It is also a subscription endpoint, `pipeline:ID`: messages
    /// routed to it are its input, and what it publishes goes where subscriptions from it lead.
    public struct Pipeline: Sendable, Hashable, Codable {
        public var id: String
        public var input: PipelineInput
        /// Machine learning resources (id or name), in the order they run: each model's output is the next one's input.
        public var models: [String]
        /// When set, the result is 1 when the last model's single output is at least this, else 0 (the tutorial's
        /// `(raw_prediction >= CLASSIFICATION_THRESHOLD).astype(int)`).
        public var threshold: Double?
        public var output: PipelineOutput
        /// Seconds between runs of a pipeline that reads a shadow; nil for one that runs on every message.
        public var every: Double?

        public init(
            id: String,
            input: PipelineInput,
            models: [String],
            threshold: Double? = nil,
            output: PipelineOutput,
            every: Double? = nil
        ) {
            self.id = id
            self.input = input
            self.models = models
            self.threshold = threshold
            self.output = output
            self.every = every
        }
    }

    /// Where a pipeline's numbers come from: the reported state of `shadow` (a thing of the group), or, without
    /// `shadow`, the JSON messages routed to the pipeline. `fields` are the keys read, in the order the first model
    /// expects them (as a `[1, fields.count]` tensor).
    public struct PipelineInput: Sendable, Hashable, Codable {
        public var shadow: String?
        public var fields: [String]

        public init(shadow: String? = nil, fields: [String]) {
            self.shadow = shadow
            self.fields = fields
        }
    }

    /// Where a pipeline's result goes: `field` of `shadow`'s reported state, or a JSON object `{field: result}`
    /// published on `topic`. `scoreField`, when set, also carries the last model's raw output.
    public struct PipelineOutput: Sendable, Hashable, Codable {
        public var shadow: String?
        public var topic: String?
        public var field: String
        public var scoreField: String?

        public init(shadow: String? = nil, topic: String? = nil, field: String, scoreField: String? = nil) {
            self.shadow = shadow
            self.topic = topic
            self.field = field
            self.scoreField = scoreField
        }
    }
}

extension GroupDefinition.Pipeline {
    /// How often a pipeline reading a shadow runs when the file does not say.
    public static let defaultInterval = 10.0
    /// The shortest interval: a pipeline polling faster than this would mostly read the same state.
    public static let minimumInterval = 0.1
}
