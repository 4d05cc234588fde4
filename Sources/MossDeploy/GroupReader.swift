import Yams

/// A value in the YAML tree with the field path diagnostics name it by (`functions[1].timeout`).
struct Field {
    let node: Node
    let path: String

    func child(_ key: String, _ node: Node) -> Field {
        Field(node: node, path: path.isEmpty ? key : "\(path).\(key)")
    }

    func element(_ index: Int, _ node: Node) -> Field {
        Field(node: node, path: "\(path)[\(index)]")
    }
}

/// Walks a group file's YAML tree by hand (not Codable) so that every problem is collected, located and
/// explained, instead of stopping at the first. Readers return nil (or keep a default) for a bad value
/// after recording why; ``GroupFile`` refuses the group when any error was recorded.
final class GroupReader {
    let file: String
    let context: GroupContext
    private(set) var diagnostics: [GroupDiagnostic] = []
    /// Where each field was written, for diagnostics found after reading (duplicates, references).
    private var marks: [String: Mark] = [:]
    /// Fields with an error already: later rules leave them alone so that one mistake is reported once.
    private(set) var failedPaths: Set<String> = []
    /// The version or alias of each Lambda ARN endpoint, by field path, checked against the function's version.
    var qualifiers: [String: String] = [:]

    init(file: String, context: GroupContext) {
        self.file = file
        self.context = context
    }

    // MARK: - Diagnostics

    func report(_ severity: GroupDiagnostic.Severity, _ path: String, at mark: Mark?, _ message: String) {
        if severity == .error { failedPaths.insert(path) }
        diagnostics.append(
            GroupDiagnostic(
                severity: severity,
                file: file,
                line: mark?.line,
                column: mark?.column,
                field: path,
                message: message
            )
        )
    }

    func error(_ field: Field, _ message: String) {
        report(.error, field.path, at: field.node.mark, message)
    }

    func warning(_ field: Field, _ message: String) {
        report(.warning, field.path, at: field.node.mark, message)
    }

    /// For rules checked after reading: the position is looked up by path.
    func error(at path: String, _ message: String) {
        report(.error, path, at: marks[path], message)
    }

    func warning(at path: String, _ message: String) {
        report(.warning, path, at: marks[path], message)
    }

    func hasMark(_ path: String) -> Bool { marks[path] != nil }

    /// `line N` of a field, for messages that point back at an earlier one.
    func lineReference(_ path: String) -> String {
        marks[path].map { "\(path) (line \($0.line))" } ?? path
    }

    // MARK: - Structure

    /// The fields of a mapping, keyed by name. Unknown keys and missing required ones are reported;
    /// nil when the node is not a mapping at all.
    func mapping(_ field: Field, keys: [String], required: [String] = []) -> [String: Field]? {
        guard case .mapping(let mapping) = field.node else {
            error(field, "expected a mapping with keys \(keys.joined(separator: ", ")), got \(describe(field.node))")
            return nil
        }
        marks[field.path] = field.node.mark
        var fields: [String: Field] = [:]
        for (keyNode, value) in mapping {
            guard case .scalar(let scalar) = keyNode else {
                error(
                    Field(node: keyNode, path: field.path),
                    "keys must be plain names; allowed here: \(keys.joined(separator: ", "))"
                )
                continue
            }
            let child = field.child(scalar.string, value)
            guard keys.contains(scalar.string) else {
                error(
                    Field(node: keyNode, path: child.path),
                    "unknown key; allowed here: \(keys.joined(separator: ", "))"
                )
                continue
            }
            marks[child.path] = value.mark
            fields[scalar.string] = child
        }
        for key in required where fields[key] == nil {
            error(field.child(key, field.node), "is required")
        }
        return fields
    }

    /// The elements of a list; nil (after reporting) when the node is not a list. An explicit null is an empty list.
    func list(_ field: Field, of what: String) -> [Field]? {
        if isNull(field.node) { return [] }
        guard case .sequence(let sequence) = field.node else {
            error(field, "expected a list of \(what), got \(describe(field.node))")
            return nil
        }
        return sequence.enumerated().map { index, node in
            let element = field.element(index, node)
            marks[element.path] = node.mark
            return element
        }
    }

    // MARK: - Scalars

    func string(_ field: Field) -> String? {
        guard case .scalar(let scalar) = field.node, !isNull(field.node) else {
            error(field, "expected a string, got \(describe(field.node))")
            return nil
        }
        guard !scalar.string.isEmpty else {
            error(field, "must not be empty")
            return nil
        }
        return scalar.string
    }

    /// A string that must follow `rule`; the value is kept even when it does not, so that references to it
    /// still resolve and one bad name is reported once.
    func name(_ field: Field, _ rule: NameRule) -> String? {
        guard let value = string(field) else { return nil }
        if let problem = rule.problem(value) { error(field, problem) }
        return value
    }

    /// A decimal integer (YAML 1.2 core schema; JSON numbers) within `range`.
    func integer(_ field: Field, in range: ClosedRange<Int>, unit: String = "") -> Int? {
        guard case .scalar(let scalar) = field.node, scalar.style == .plain || scalar.style == .any,
            let value = Int(scalar.string)
        else {
            error(field, "expected an integer, got \(describe(field.node))")
            return nil
        }
        guard range.contains(value) else {
            let suffix = unit.isEmpty ? "" : " " + unit
            error(field, "\(value) is out of range; expected \(range.lowerBound)…\(range.upperBound)\(suffix)")
            return nil
        }
        return value
    }

    /// A decimal number (integer or fraction) within `range`.
    func number(_ field: Field, in range: ClosedRange<Double>, unit: String = "") -> Double? {
        guard case .scalar(let scalar) = field.node, scalar.style == .plain || scalar.style == .any,
            let value = Double(scalar.string), value.isFinite
        else {
            error(field, "expected a number, got \(describe(field.node))")
            return nil
        }
        guard range.contains(value) else {
            let suffix = unit.isEmpty ? "" : " " + unit
            error(field, "\(scalar.string) is out of range; expected \(range.lowerBound)…\(range.upperBound)\(suffix)")
            return nil
        }
        return value
    }

    func boolean(_ field: Field) -> Bool? {
        if case .scalar(let scalar) = field.node, scalar.style == .plain || scalar.style == .any {
            switch scalar.string {
            case "true", "True", "TRUE": return true
            case "false", "False", "FALSE": return false
            default: break
            }
        }
        error(field, "expected true or false, got \(describe(field.node))")
        return nil
    }

    func choice<Value: RawRepresentable & CaseIterable>(_ field: Field, _: Value.Type = Value.self) -> Value?
    where Value.RawValue == String {
        guard let text = string(field) else { return nil }
        guard let value = Value(rawValue: text) else {
            let allowed = Value.allCases.map(\.rawValue).joined(separator: ", ")
            error(field, "\(quoted(text)) is not allowed; expected one of \(allowed)")
            return nil
        }
        return value
    }

    func isNull(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain || scalar.style == .any else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    /// A node as "got …" quotes it: numbers and booleans as written, strings in quotes.
    func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar):
            if isNull(node) { return "nothing" }
            if scalar.style == .plain || scalar.style == .any,
                Int(scalar.string) != nil || Double(scalar.string) != nil
                    || ["true", "false"].contains(scalar.string)
            {
                return scalar.string
            }
            return quoted(scalar.string)
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }
}
