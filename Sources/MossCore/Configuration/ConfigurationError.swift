/// A configuration value Moss cannot use: names the file (and line), the key, and what is allowed.
public struct ConfigurationError: Error, Hashable, CustomStringConvertible {
    /// The YAML file, or nil for values that came from defaults or flags.
    public var file: String?
    /// 1-based line in `file`, when known.
    public var line: Int?
    /// Dotted key path, e.g. `mqtt.port`.
    public var key: String?
    public var message: String

    public init(file: String? = nil, line: Int? = nil, key: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }

    public var description: String {
        var location = ""
        if let file {
            location = file + (line.map { ":\($0)" } ?? "") + ": "
        }
        if let key {
            return "\(location)\(key): \(message)"
        }
        return location + message
    }
}
