import MossShadow

/// The comparison rules of spec §12.1: any value under `timestamp` matches "TS"; labels "T1"… bind to one
/// observed value each, later labels greater; error messages match by prefix; an error document may carry an
/// extra `timestamp`; every other key must match exactly (missing and unexpected keys both fail).
struct VectorMatcher {
    var labels: [String: Int64] = [:]

    /// nil when `actual` matches `expected`, else what differs.
    mutating func mismatch(expected: JSONValue, actual: JSONValue, path: String = "$") -> String? {
        switch (expected, actual) {
        case (.object(let want), .object(let got)):
            let isError = want["code"] != nil && want["message"] != nil
            for (key, value) in want {
                guard let other = got[key] else { return "\(path).\(key) is missing" }
                if key == "timestamp", case .string(let pattern) = value {
                    if let problem = matchTimestamp(pattern, other, path: "\(path).\(key)") { return problem }
                    continue
                }
                if isError, key == "message", case .string(let prefix) = value, case .string(let text) = other {
                    if !text.hasPrefix(prefix) { return "\(path).message \"\(text)\" does not start with \"\(prefix)\"" }
                    continue
                }
                if let problem = mismatch(expected: value, actual: other, path: "\(path).\(key)") { return problem }
            }
            for key in got.keys where want[key] == nil && !(isError && key == "timestamp") {
                return "\(path).\(key) is unexpected"
            }
            return nil
        case (.array(let want), .array(let got)):
            guard want.count == got.count else { return "\(path) has \(got.count) elements, expected \(want.count)" }
            for (index, (value, other)) in zip(want, got).enumerated() {
                if let problem = mismatch(expected: value, actual: other, path: "\(path)[\(index)]") { return problem }
            }
            return nil
        default:
            return expected == actual && sameKind(expected, actual) ? nil : "\(path) is \(render(actual)), expected \(render(expected))"
        }
    }

    private mutating func matchTimestamp(_ pattern: String, _ value: JSONValue, path: String) -> String? {
        guard case .number(let number) = value, let observed = number.int64Value else {
            return "\(path) is not an integer timestamp"
        }
        if pattern == "TS" { return nil }
        if let bound = labels[pattern] {
            return bound == observed ? nil : "\(path) is \(observed), but \(pattern) was \(bound)"
        }
        for (label, bound) in labels {
            if label < pattern && bound >= observed { return "\(path) \(pattern)=\(observed) is not after \(label)=\(bound)" }
            if label > pattern && bound <= observed { return "\(path) \(pattern)=\(observed) is not before \(label)=\(bound)" }
        }
        labels[pattern] = observed
        return nil
    }

    /// Booleans never match numbers, even where JSONValue's value equality would not care.
    private func sameKind(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.number(let x), .number(let y)): x.text == y.text || x == y
        default: true
        }
    }

    private func render(_ value: JSONValue) -> String {
        String(decoding: JSONWriter.serialize(value), as: UTF8.self)
    }
}
