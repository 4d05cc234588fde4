/// Topic names and topic filters: validation, matching and shared subscriptions (MQTT 3.1.1 §4.7, 5.0 §4.7–4.8).
public enum MQTTTopic {
    /// Levels beyond this are refused (mosquitto's TOPIC_HIERARCHY_LIMIT).
    public static let maximumLevels = 200

    /// Why a topic name or filter is invalid.
    public enum Problem: Error, Sendable, Hashable, CustomStringConvertible {
        case empty
        case tooLong
        case containsNull
        case wildcardInTopicName
        case misplacedWildcard
        case tooManyLevels
        case malformedSharedSubscription

        public var description: String {
            switch self {
            case .empty: "topic is empty"
            case .tooLong: "topic is longer than 65535 bytes"
            case .containsNull: "topic contains U+0000"
            case .wildcardInTopicName: "a topic name (PUBLISH) must not contain '+' or '#'"
            case .misplacedWildcard: "'#' must be the last level and '+'/'#' must fill a whole level"
            case .tooManyLevels: "topic has more than \(MQTTTopic.maximumLevels) levels"
            case .malformedSharedSubscription: "a shared subscription must be $share/{group}/{filter} with a non-empty group without wildcards"
            }
        }
    }

    /// Checks a topic name as used in PUBLISH.
    public static func validateName(_ topic: String) throws(Problem) {
        var levels = 1
        var count = 0
        for byte in topic.utf8 {
            count += 1
            switch byte {
            case 0: throw .containsNull
            case UInt8(ascii: "+"), UInt8(ascii: "#"): throw .wildcardInTopicName
            case UInt8(ascii: "/"): levels += 1
            default: break
            }
        }
        if count == 0 { throw .empty }
        if count > 65_535 { throw .tooLong }
        if levels > maximumLevels { throw .tooManyLevels }
    }

    /// Checks a topic filter as used in SUBSCRIBE/UNSUBSCRIBE (after removing any `$share/group/` prefix).
    public static func validateFilter(_ filter: String) throws(Problem) {
        let bytes = Array(filter.utf8)
        if bytes.isEmpty { throw .empty }
        if bytes.count > 65_535 { throw .tooLong }
        var levels = 1
        for (index, byte) in bytes.enumerated() {
            switch byte {
            case 0:
                throw .containsNull
            case UInt8(ascii: "/"):
                levels += 1
            case UInt8(ascii: "+"):
                let startsLevel = index == 0 || bytes[index - 1] == UInt8(ascii: "/")
                let endsLevel = index == bytes.count - 1 || bytes[index + 1] == UInt8(ascii: "/")
                if !(startsLevel && endsLevel) { throw .misplacedWildcard }
            case UInt8(ascii: "#"):
                let startsLevel = index == 0 || bytes[index - 1] == UInt8(ascii: "/")
                if !(startsLevel && index == bytes.count - 1) { throw .misplacedWildcard }
            default:
                break
            }
        }
        if levels > maximumLevels { throw .tooManyLevels }
    }

    /// A `$share/{group}/{filter}` subscription split into its parts; nil for an ordinary filter.
    public static func sharedSubscription(_ filter: String) throws(Problem) -> (group: String, filter: String)? {
        // Bytes, not Characters: "$share/" followed by a combining mark is still a shared subscription.
        guard filter.utf8.starts(with: "$share/".utf8) else { return nil }
        let rest = filter.utf8.dropFirst(7)
        guard let slash = rest.firstIndex(of: UInt8(ascii: "/")) else { throw .malformedSharedSubscription }
        let group = String(Substring(filter.utf8[rest.startIndex..<slash]))
        let inner = String(Substring(filter.utf8[filter.utf8.index(after: slash)...]))
        let wildcard = group.utf8.contains { $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "#") }
        if group.isEmpty || wildcard || inner.isEmpty {
            throw .malformedSharedSubscription
        }
        return (group, inner)
    }

    /// Whether `filter` matches `topic`. Topics starting with `$` are not matched by a leading wildcard.
    public static func matches(filter: String, topic: String) -> Bool {
        var f = filter.utf8[...]
        var t = topic.utf8[...]
        if let first = t.first, first == UInt8(ascii: "$"), let ff = f.first,
            ff == UInt8(ascii: "+") || ff == UInt8(ascii: "#")
        {
            return false
        }
        while true {
            let fEnd = f.firstIndex(of: UInt8(ascii: "/")) ?? f.endIndex
            let fLevel = f[f.startIndex..<fEnd]
            if fLevel.count == 1 && fLevel.first == UInt8(ascii: "#") { return true }
            let tEnd = t.firstIndex(of: UInt8(ascii: "/")) ?? t.endIndex
            let tLevel = t[t.startIndex..<tEnd]
            if !(fLevel.count == 1 && fLevel.first == UInt8(ascii: "+")) && !fLevel.elementsEqual(tLevel) {
                return false
            }
            let fDone = fEnd == f.endIndex
            let tDone = tEnd == t.endIndex
            if fDone && tDone { return true }
            if tDone {
                // "a/#" also matches "a": the remaining filter must be exactly "/#".
                let rest = f[fEnd...]
                return rest.elementsEqual("/#".utf8)
            }
            if fDone { return false }
            f = f[f.index(after: fEnd)...]
            t = t[t.index(after: tEnd)...]
        }
    }

    /// Whether some topic name is matched by both filters.
    public static func filtersOverlap(_ a: String, _ b: String) -> Bool {
        // Levels are compared as bytes, as `matches` does: String's Character comparison would treat
        // canonically equivalent spellings as equal and a '/' followed by a combining mark as no separator.
        let slash = UInt8(ascii: "/")
        let la = a.utf8.split(separator: slash, omittingEmptySubsequences: false)
        let lb = b.utf8.split(separator: slash, omittingEmptySubsequences: false)
        func isLevel(_ level: Substring.UTF8View, _ wildcard: Character) -> Bool {
            level.count == 1 && level.first == wildcard.asciiValue
        }
        // A leading wildcard never reaches `$` topics, so it cannot overlap a literal `$` first level.
        if let fa = la.first, let fb = lb.first {
            let aWild = isLevel(fa, "+") || isLevel(fa, "#")
            let bWild = isLevel(fb, "+") || isLevel(fb, "#")
            if aWild && !bWild && fb.first == UInt8(ascii: "$") { return false }
            if bWild && !aWild && fa.first == UInt8(ascii: "$") { return false }
        }
        var i = 0
        while true {
            let aDone = i == la.count
            let bDone = i == lb.count
            if aDone && bDone { return true }
            if aDone { return isLevel(lb[i], "#") }
            if bDone { return isLevel(la[i], "#") }
            let x = la[i]
            let y = lb[i]
            if isLevel(x, "#") || isLevel(y, "#") { return true }
            if !isLevel(x, "+") && !isLevel(y, "+") && !x.elementsEqual(y) { return false }
            i += 1
        }
    }
}
