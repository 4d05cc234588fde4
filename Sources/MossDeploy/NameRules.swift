/// The character rules for names and ids, each with the words a diagnostic uses to explain it.
struct NameRule: Sendable {
    let what: String
    let maximumLength: Int
    let allowedCharacters: String
    let isAllowed: @Sendable (UInt8) -> Bool
    var firstCharacterRule: (@Sendable (UInt8) -> Bool)? = nil
    var firstCharacterText: String? = nil

    func problem(_ value: String) -> String? {
        let bytes = Array(value.utf8)
        let valid =
            !bytes.isEmpty && bytes.count <= maximumLength && bytes.allSatisfy(isAllowed)
            && (firstCharacterRule.map { rule in rule(bytes[0]) } ?? true)
        if valid { return nil }
        let first = firstCharacterText.map { ", starting with \($0)" } ?? ""
        return
            "\(quoted(value)) is not a valid \(what); expected 1…\(maximumLength) characters of \(allowedCharacters)\(first)"
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }

    /// V1's pattern for ids, thing names and resource names: `[a-zA-Z0-9:_-]+`, at most 128.
    static func v1(_ what: String) -> NameRule {
        NameRule(what: what, maximumLength: 128, allowedCharacters: "a-z A-Z 0-9 : _ -") { byte in
            isAlphanumeric(byte) || byte == UInt8(ascii: ":") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
    }

    /// Lambda's function names: no ':' because the name sits inside an ARN.
    static let functionName = NameRule(what: "function name", maximumLength: 64, allowedCharacters: "a-z A-Z 0-9 _ -") {
        byte in isAlphanumeric(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
    }

    /// Lambda's alias names (that are not all digits, which would be a version).
    static let alias = NameRule(what: "version or alias", maximumLength: 128, allowedCharacters: "a-z A-Z 0-9 _ -") {
        byte in isAlphanumeric(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
    }

    /// AWS IoT shadow names.
    static let shadowName = NameRule(what: "shadow name", maximumLength: 64, allowedCharacters: "a-z A-Z 0-9 : _ -") {
        byte in
        isAlphanumeric(byte) || byte == UInt8(ascii: ":") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
    }

    /// Environment variable names as a shell can reference them.
    static let environmentVariable = NameRule(
        what: "environment variable name",
        maximumLength: 256,
        allowedCharacters: "A-Z a-z 0-9 _",
        isAllowed: { byte in isAlphanumeric(byte) || byte == UInt8(ascii: "_") },
        firstCharacterRule: { byte in !(byte >= 0x30 && byte <= 0x39) },
        firstCharacterText: "a letter or _"
    )

    /// A Linux group name (useradd's rule) or a numeric GID.
    static let groupOwner = NameRule(
        what: "group owner",
        maximumLength: 32,
        allowedCharacters: "a-z 0-9 _ - (a group name) or digits (a GID)",
        isAllowed: { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x7A) || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: "-")
        }
    )
}

/// A value as a diagnostic quotes it.
func quoted(_ value: String) -> String {
    var escaped = ""
    for character in value {
        switch character {
        case "\"": escaped += "\\\""
        case "\\": escaped += "\\\\"
        case "\n": escaped += "\\n"
        case "\t": escaped += "\\t"
        default: escaped.append(character)
        }
    }
    return "\"" + escaped + "\""
}

/// Whether `text` is `count` hex digits.
func isHex(_ text: String, count: Int) -> Bool {
    text.utf8.count == count
        && text.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66) || (byte >= 0x41 && byte <= 0x46)
        }
}
