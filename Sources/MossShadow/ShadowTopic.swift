/// The three shadow operations.
public enum ShadowOperation: String, Sendable, Hashable, CaseIterable {
    case get, update, delete
}

/// The MQTT side of spec §2.5: which request a topic is, and where replies go.
public enum ShadowTopic {
    /// The shadow and operation a request topic names, or nil for any other topic (replies, notifications,
    /// unrelated topics), which the service ignores.
    public static func request(_ topic: String) -> (key: ShadowKey, operation: ShadowOperation)? {
        guard topic.hasPrefix("$aws/things/") else { return nil }
        let levels = topic.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        // $aws / things / T / shadow / op    or    $aws / things / T / shadow / name / N / op
        guard levels.count == 5 || levels.count == 7, String(levels[3]) == "shadow" else { return nil }
        let thing = String(levels[2]) ?? ""
        let key: ShadowKey
        if levels.count == 7 {
            guard String(levels[4]) == "name" else { return nil }
            key = ShadowKey(thing: thing, name: String(levels[5]) ?? "")
        } else {
            key = ShadowKey(thing: thing)
        }
        guard let last = String(levels[levels.count - 1]), let operation = ShadowOperation(rawValue: last) else {
            return nil
        }
        return (key, operation)
    }

    public static func accepted(_ key: ShadowKey, _ operation: ShadowOperation) -> String {
        "\(key.topicPrefix)/\(operation.rawValue)/accepted"
    }

    public static func rejected(_ key: ShadowKey, _ operation: ShadowOperation) -> String {
        "\(key.topicPrefix)/\(operation.rawValue)/rejected"
    }

    public static func delta(_ key: ShadowKey) -> String { "\(key.topicPrefix)/update/delta" }

    public static func documents(_ key: ShadowKey) -> String { "\(key.topicPrefix)/update/documents" }
}
