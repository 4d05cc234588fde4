/// Tensors as text: what `moss infer` reads (a JSON number, a nested JSON array giving the shape, or a comma list
/// for rank 1) and writes (nested arrays, like NumPy's `.tolist()` printed by Python's `json.dumps`).
public enum TensorJSON {
    /// Parses float32 tensor values. Numbers are read as doubles and rounded to float32, as
    /// `np.float32(json_value)` does.
    public static func parse(_ text: String) throws(InferenceError) -> Tensor {
        let trimmed = text.trimmingASCIISpaces()
        guard !trimmed.isEmpty else { throw InferenceError(.invalidInput, "no value given") }
        if trimmed.first != "[", trimmed.contains(",") {
            var values: [Float] = []
            for part in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
                let item = String(part).trimmingASCIISpaces()
                guard let value = Self.number(item) else {
                    throw InferenceError(.invalidInput, "'\(item)' is not a number")
                }
                values.append(value)
            }
            return Tensor(shape: [values.count], floats: values)
        }
        var parser = Parser(bytes: Array(trimmed.utf8))
        let (shape, values) = try parser.document()
        return Tensor(shape: shape, floats: values)
    }

    /// A JSON number (the JSON grammar, not Swift's: no hex, no `inf`).
    private static func number(_ text: String) -> Float? {
        var parser = Parser(bytes: Array(text.utf8))
        guard let value = try? parser.number(), parser.isAtEnd else { return nil }
        return value
    }

    /// The tensor as nested JSON arrays (a bare number for a scalar).
    public static func format(_ tensor: Tensor) -> String {
        let values = tensor.doubles
        var text = ""
        func write(axis: Int, offset: Int) {
            if axis == tensor.shape.count {
                text += formatNumber(values[offset], isFloat: tensor.elementType == .float32)
                return
            }
            let stride = tensor.shape[(axis + 1)...].reduce(1, *)
            text += "["
            for index in 0..<tensor.shape[axis] {
                if index > 0 { text += ", " }
                write(axis: axis + 1, offset: offset + index * stride)
            }
            text += "]"
        }
        write(axis: 0, offset: 0)
        return text
    }

    /// A JSON object of named tensors, keys sorted, as `json.dumps(..., sort_keys=True)` prints it.
    public static func format(_ tensors: [String: Tensor]) -> String {
        "{" + tensors.keys.sorted().map { "\"\(escaped($0))\": \(format(tensors[$0]!))" }.joined(separator: ", ") + "}"
    }

    /// Python's `repr` of the float32 value widened to a double: the shortest text that reads back to that double.
    private static func formatNumber(_ value: Double, isFloat: Bool) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Infinity" : "Infinity" }
        if !isFloat { return String(Int64(value)) }
        return value.description
    }

    private static func escaped(_ key: String) -> String {
        var result = ""
        for scalar in key.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case _ where scalar.value < 0x20:
                result +=
                    "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                    + String(scalar.value, radix: 16)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    private struct Parser {
        let bytes: [UInt8]
        var position = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        var isAtEnd: Bool { position == bytes.count }

        mutating func skipSpaces() {
            while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
        }

        func failure(_ message: String) -> InferenceError {
            InferenceError(.invalidInput, "invalid JSON tensor at character \(position + 1): \(message)")
        }

        mutating func document() throws(InferenceError) -> ([Int], [Float]) {
            var values: [Float] = []
            skipSpaces()
            let shape = try value(into: &values)
            skipSpaces()
            guard isAtEnd else { throw failure("unexpected text after the value") }
            return (shape, values)
        }

        /// Parses a number or an array, appending its elements; returns its shape.
        mutating func value(into values: inout [Float]) throws(InferenceError) -> [Int] {
            skipSpaces()
            guard position < bytes.count else { throw failure("unexpected end") }
            guard bytes[position] == UInt8(ascii: "[") else {
                values.append(try number())
                return []
            }
            position += 1
            skipSpaces()
            if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
                position += 1
                return [0]
            }
            var elementShape: [Int]?
            var count = 0
            while true {
                let shape = try value(into: &values)
                if let elementShape, elementShape != shape {
                    throw failure("ragged array (an element of shape \(shape) after \(elementShape))")
                }
                elementShape = shape
                count += 1
                skipSpaces()
                guard position < bytes.count else { throw failure("unexpected end inside an array") }
                if bytes[position] == UInt8(ascii: ",") {
                    position += 1
                } else if bytes[position] == UInt8(ascii: "]") {
                    position += 1
                    return [count] + (elementShape ?? [])
                } else {
                    throw failure("expected ',' or ']'")
                }
            }
        }

        mutating func number() throws(InferenceError) -> Float {
            let start = position
            func digits() -> Int {
                let first = position
                while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) {
                    position += 1
                }
                return position - first
            }
            if position < bytes.count, bytes[position] == UInt8(ascii: "-") { position += 1 }
            guard digits() > 0 else { throw failure("expected a number") }
            if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
                position += 1
                guard digits() > 0 else { throw failure("expected digits after '.'") }
            }
            if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
                position += 1
                if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-")
                {
                    position += 1
                }
                guard digits() > 0 else { throw failure("expected an exponent") }
            }
            guard let value = Double(String(decoding: bytes[start..<position], as: UTF8.self)) else {
                throw failure("bad number")
            }
            return Float(value)
        }
    }
}

extension String {
    fileprivate func trimmingASCIISpaces() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}
