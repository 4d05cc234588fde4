/// The update and delta rules of spec §3 and §4 on stored sections.
enum ShadowMerge {
    /// Applies `patch` to a stored section at `timestamp` (spec §3.3): null deletes, objects merge key by key,
    /// scalars and arrays replace. Returns nil when the section ends up empty (it is then removed).
    static func merge(_ patch: JSONObject, into stored: NodeObject?, at timestamp: Int64) -> NodeObject? {
        var result = stored ?? NodeObject()
        for (key, value) in patch {
            switch value {
            case .null:
                result[key] = nil
            case .object(let members):
                if case .object(let existing)? = result[key] {
                    // An object emptied by nulls is pruned rather than kept as {} (docs/shadows.md).
                    result[key] = merge(members, into: existing, at: timestamp).map(ShadowNode.object)
                } else {
                    result[key] = ShadowNode.fromPatch(value, timestamp: timestamp)
                }
            default:
                result[key] = ShadowNode.fromPatch(value, timestamp: timestamp)
            }
        }
        return result.isEmpty ? nil : result
    }

    /// The delta (spec §4.1): what desired says that reported does not, with desired's own leaves and
    /// timestamps; nil when there is no difference.
    static func delta(desired: NodeObject?, reported: NodeObject?) -> NodeObject? {
        guard let desired else { return nil }
        guard let reported else { return desired.isEmpty ? nil : desired }
        return walk(desired, reported)
    }

    private static func walk(_ desired: NodeObject, _ reported: NodeObject) -> NodeObject? {
        var result = NodeObject()
        desired.forEach { key, node in
            guard let counterpart = reported[key] else {
                result[key] = node
                return
            }
            if case .object(let wanted) = node, case .object(let actual) = counterpart {
                if let sub = walk(wanted, actual) { result[key] = .object(sub) }
            } else if !node.sameValue(as: counterpart) {
                result[key] = node
            }
        }
        return result.isEmpty ? nil : result
    }

    /// Nesting depth as spec §3.5 counts it: every non-empty object or array is a level; scalars and empty
    /// containers are not.
    static func depth(of value: JSONValue) -> Int {
        switch value {
        case .object(let object):
            guard !object.isEmpty else { return 0 }
            var deepest = 0
            for (_, member) in object { deepest = max(deepest, depth(of: member)) }
            return 1 + deepest
        case .array(let elements):
            guard !elements.isEmpty else { return 0 }
            return 1 + elements.reduce(0) { max($0, depth(of: $1)) }
        default:
            return 0
        }
    }

    /// Whether a null sits anywhere inside an array (arrays are stored values, and a stored value has no nulls).
    static func containsNullInArray(_ value: JSONValue, insideArray: Bool = false) -> Bool {
        switch value {
        case .null: return insideArray
        case .array(let elements): return elements.contains { containsNullInArray($0, insideArray: true) }
        case .object(let object):
            for (_, member) in object where containsNullInArray(member, insideArray: insideArray) { return true }
            return false
        default: return false
        }
    }

    /// The `metadata` of an accepted reply: the request's state mirrored, every leaf (nulls included) stamped.
    static func writeRequestMetadata(_ value: JSONValue, at timestamp: Int64, into writer: inout JSONWriter) {
        switch value {
        case .object(let object):
            writer.raw("{")
            var first = true
            for (key, member) in object {
                if !first { writer.raw(",") }
                first = false
                writer.write(string: key)
                writer.raw(":")
                writeRequestMetadata(member, at: timestamp, into: &writer)
            }
            writer.raw("}")
        case .array(let elements):
            writer.raw("[")
            for (position, element) in elements.enumerated() {
                if position > 0 { writer.raw(",") }
                writeRequestMetadata(element, at: timestamp, into: &writer)
            }
            writer.raw("]")
        default:
            ShadowNode.writeTimestamp(timestamp, into: &writer)
        }
    }
}
