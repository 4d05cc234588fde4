import MossMQTT

/// One subscription of one session, as stored in the tree.
struct SubscriptionEntry {
    let session: Session
    var options: MQTTPacket.Subscription
    var identifier: UInt32?
    /// Part of a `$share` group: delivered separately from the session's other subscriptions.
    var shared: Bool
}

/// A topic trie of subscriptions: one node per level, `+` and `#` as dedicated children.
/// Shared subscriptions (`$share/group/filter`) hang off the node of their inner filter, per group.
/// Not thread-safe: ``BrokerCore`` guards it with its lock.
final class SubscriptionTree {
    private final class Node {
        var children: [Substring: Node] = [:]
        var plus: Node?
        var hash: Node?
        var entries: [SubscriptionEntry] = []
        var shared: [String: SharedGroup] = [:]

        var isEmpty: Bool {
            children.isEmpty && plus == nil && hash == nil && entries.isEmpty && shared.isEmpty
        }
    }

    private struct SharedGroup {
        var entries: [SubscriptionEntry] = []
        var next = 0
    }

    private let root = Node()
    private(set) var count = 0

    /// Adds or replaces `entry.session`'s subscription on `filter`. Returns true when it replaced one.
    @discardableResult
    func insert(filter: String, sharedGroup: String?, entry: SubscriptionEntry) -> Bool {
        var node = root
        for level in filter.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            let key = Substring(level)
            let next: Node
            if key == "+" {
                if node.plus == nil { node.plus = Node() }
                next = node.plus!
            } else if key == "#" {
                if node.hash == nil { node.hash = Node() }
                next = node.hash!
            } else if let existing = node.children[key] {
                next = existing
            } else {
                next = Node()
                node.children[key] = next
            }
            node = next
        }
        if let group = sharedGroup {
            var shared = node.shared[group] ?? SharedGroup()
            defer { node.shared[group] = shared }
            if let index = shared.entries.firstIndex(where: { $0.session === entry.session }) {
                shared.entries[index] = entry
                return true
            }
            shared.entries.append(entry)
        } else {
            if let index = node.entries.firstIndex(where: { $0.session === entry.session }) {
                node.entries[index] = entry
                return true
            }
            node.entries.append(entry)
        }
        count += 1
        return false
    }

    /// Removes `session`'s subscription on `filter`. Returns whether one existed.
    @discardableResult
    func remove(filter: String, sharedGroup: String?, session: Session) -> Bool {
        var path: [(Node, Substring)] = []
        var node = root
        for level in filter.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            let key = Substring(level)
            let next: Node?
            if key == "+" {
                next = node.plus
            } else if key == "#" {
                next = node.hash
            } else {
                next = node.children[key]
            }
            guard let next else { return false }
            path.append((node, key))
            node = next
        }
        var removed = false
        if let group = sharedGroup {
            if var shared = node.shared[group], let index = shared.entries.firstIndex(where: { $0.session === session }) {
                shared.entries.remove(at: index)
                node.shared[group] = shared.entries.isEmpty ? nil : shared
                removed = true
            }
        } else if let index = node.entries.firstIndex(where: { $0.session === session }) {
            node.entries.remove(at: index)
            removed = true
        }
        guard removed else { return false }
        count -= 1
        // Prune empty nodes so a churn of unique topics does not leak memory.
        var child = node
        for (parent, key) in path.reversed() {
            guard child.isEmpty else { break }
            if key == "+" {
                parent.plus = nil
            } else if key == "#" {
                parent.hash = nil
            } else {
                parent.children[key] = nil
            }
            child = parent
        }
        return true
    }

    /// Calls `body` for every subscription matching `topic`; for each shared group, one member chosen round-robin
    /// (connected members first).
    func forEachMatch(topic: String, _ body: (SubscriptionEntry) -> Void) {
        let levels = topic.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        // MQTT-4.7.2-1: a leading wildcard does not match topics starting with '$'.
        let dollar = topic.utf8.first == UInt8(ascii: "$")
        match(node: root, levels: levels, index: 0, wildcardAllowed: !dollar, body)
    }

    private func match(
        node: Node,
        levels: [Substring.UTF8View],
        index: Int,
        wildcardAllowed: Bool,
        _ body: (SubscriptionEntry) -> Void
    ) {
        if wildcardAllowed, let hash = node.hash {
            // "a/#" matches "a" itself and everything below it.
            emit(hash, body)
        }
        if index == levels.count {
            emit(node, body)
            return
        }
        if let child = node.children[Substring(levels[index])] {
            match(node: child, levels: levels, index: index + 1, wildcardAllowed: true, body)
        }
        if wildcardAllowed, let plus = node.plus {
            match(node: plus, levels: levels, index: index + 1, wildcardAllowed: true, body)
        }
    }

    private func emit(_ node: Node, _ body: (SubscriptionEntry) -> Void) {
        for entry in node.entries { body(entry) }
        if node.shared.isEmpty { return }
        for key in node.shared.keys {
            guard var group = node.shared[key], !group.entries.isEmpty else { continue }
            let n = group.entries.count
            var chosen = group.next % n
            for offset in 0..<n where group.entries[(group.next + offset) % n].session.isConnected {
                chosen = (group.next + offset) % n
                break
            }
            group.next = chosen + 1
            node.shared[key] = group
            body(group.entries[chosen])
        }
    }
}
