/// A JSON value as shadow documents need it: object keys keep their order (requests are echoed as sent)
/// and numbers keep their text (a gateway must not turn `1.10` into `1.1` or lose a 64-bit id).
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    public var objectValue: JSONObject? {
        if case .object(let object) = self { return object }
        return nil
    }

    /// JSON-value equality as the delta uses it: numbers by value (`1 == 1.0`), booleans never equal numbers,
    /// arrays in order, objects by key set regardless of key order.
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.number(let a), .number(let b)): a == b
        case (.string(let a), .string(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)): a == b
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let value): hasher.combine(value)
        case .number(let value): hasher.combine(value)
        case .string(let value): hasher.combine(value)
        case .array(let values): hasher.combine(values)
        case .object(let object): hasher.combine(object.count)
        }
    }
}

/// A JSON number kept as the text it arrived as; compared by value.
public struct JSONNumber: Sendable, Hashable, CustomStringConvertible {
    /// Valid JSON number syntax (the parser checks it).
    public let text: String

    /// `text` must already be a valid JSON number; use ``init(_:)-(Int64)`` for integers.
    init(validatedText text: String) {
        self.text = text
    }

    public init(_ value: Int64) {
        self.text = String(value)
    }

    public var description: String { text }

    /// True when the text has no fraction or exponent, so it can be compared digit by digit.
    private var isPlainInteger: Bool {
        !text.utf8.contains { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
    }

    /// The value as an exact integer, when the text is a plain integer that fits.
    public var int64Value: Int64? { isPlainInteger ? Int64(text) : nil }

    public var doubleValue: Double { Double(text) ?? .nan }

    public static func == (lhs: JSONNumber, rhs: JSONNumber) -> Bool {
        if lhs.text == rhs.text { return true }
        // Integers beyond 2^53 would collide as doubles; compare them exactly ("-0" and "0" are one value).
        if lhs.isPlainInteger && rhs.isPlainInteger {
            return normalizedInteger(lhs.text) == normalizedInteger(rhs.text)
        }
        return lhs.doubleValue == rhs.doubleValue
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(doubleValue)
    }

    private static func normalizedInteger(_ text: String) -> Substring {
        text == "-0" ? "0" : Substring(text)
    }
}

/// A JSON object whose keys keep their first-insertion order. A duplicate key in the input replaces the
/// earlier value (the last one wins, as in most JSON parsers) at the earlier position.
public struct JSONObject: Sendable, Equatable, Sequence {
    public private(set) var keys: [String] = []
    private var values: [String: JSONValue] = [:]

    public init() {}

    public init(_ pairs: [(String, JSONValue)]) {
        for (key, value) in pairs { self[key] = value }
    }

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }

    public subscript(key: String) -> JSONValue? {
        get { values[key] }
        set {
            if let newValue {
                if values.updateValue(newValue, forKey: key) == nil { keys.append(key) }
            } else if values.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    public struct Iterator: IteratorProtocol {
        fileprivate var keys: IndexingIterator<[String]>
        fileprivate let values: [String: JSONValue]

        public mutating func next() -> (key: String, value: JSONValue)? {
            guard let key = keys.next(), let value = values[key] else { return nil }
            return (key, value)
        }
    }

    public func makeIterator() -> Iterator {
        Iterator(keys: keys.makeIterator(), values: values)
    }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.values == rhs.values
    }
}
