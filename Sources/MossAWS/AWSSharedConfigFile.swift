import Foundation

/// The INI dialect of `~/.aws/credentials` and `~/.aws/config`, read the way botocore's configparser reads it:
/// `[section]` headers, `key = value` or `key: value` with keys in lowercase, full-line `#` and `;` comments, no
/// inline comments, and indented lines (nested settings such as `s3 =` blocks) belonging to the key above them.
struct AWSSharedConfigFile: Sendable, Hashable {
    /// The section names in the file, each with its settings.
    var sections: [String: [String: String]]

    init(parsing text: String) {
        var sections: [String: [String: String]] = [:]
        var current: String?
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if rawLine.first?.isWhitespace == true { continue }  // a nested setting of the key above
            if line.hasPrefix("["), line.hasSuffix("]") {
                let name = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                current = name
                if sections[name] == nil { sections[name] = [:] }
                continue
            }
            guard let section = current,
                let delimiter = line.firstIndex(where: { $0 == "=" || $0 == ":" })
            else { continue }
            let key = line[..<delimiter].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: delimiter)...].trimmingCharacters(in: .whitespaces)
            sections[section, default: [:]][key] = value
        }
        self.sections = sections
    }

    /// The settings of `profile` in a credentials file: the section is the profile's name.
    func credentialsProfile(_ profile: String) -> [String: String]? { sections[profile] }

    /// The settings of `profile` in a config file: `[profile NAME]`, or `[default]` (also `[profile default]`).
    func configProfile(_ profile: String) -> [String: String]? {
        let prefixed = sections.first { key, _ in
            key.hasPrefix("profile ") && key.dropFirst("profile ".count).trimmingCharacters(in: .whitespaces) == profile
        }?.value
        if profile == "default" {
            guard let plain = sections["default"] else { return prefixed }
            return plain.merging(prefixed ?? [:]) { plain, _ in plain }
        }
        return prefixed
    }
}
