/// One route of V1's subscription table: messages from `source` on topics matching `subject` reach `target`.
public struct Subscription: Sendable, Hashable, Codable {
    public var id: String
    public var source: Endpoint
    /// An MQTT topic or topic filter (`+` and `#` as in subscriptions).
    public var subject: String
    public var target: Endpoint

    public init(id: String, source: Endpoint, subject: String, target: Endpoint) {
        self.id = id
        self.source = source
        self.subject = subject
        self.target = target
    }
}
