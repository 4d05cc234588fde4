/// One problem found in a group file, located as precisely as the file allows.
public struct GroupDiagnostic: Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable {
        /// The group is refused.
        case error
        /// Accepted, but something in it has no effect (yet) or is probably a mistake.
        case warning
    }

    public var severity: Severity
    public var file: String
    /// 1-based, when known.
    public var line: Int?
    /// 1-based, in Unicode scalars, when known.
    public var column: Int?
    /// Where in the group, e.g. `functions[1].timeout`; empty for the file as a whole.
    public var field: String
    public var message: String

    public init(
        severity: Severity,
        file: String,
        line: Int? = nil,
        column: Int? = nil,
        field: String,
        message: String
    ) {
        self.severity = severity
        self.file = file
        self.line = line
        self.column = column
        self.field = field
        self.message = message
    }

    /// `FILE:LINE:COL: error: FIELD: MESSAGE`, the shape compilers use so editors can jump to it.
    public var description: String {
        var location = file
        if let line {
            location += ":\(line)"
            if let column { location += ":\(column)" }
        }
        let subject = field.isEmpty ? "" : field + ": "
        return "\(location): \(severity.rawValue): \(subject)\(message)"
    }
}

/// A group file Moss refuses: every diagnostic found (warnings included), in file order.
public struct GroupValidationError: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [GroupDiagnostic]

    public init(diagnostics: [GroupDiagnostic]) {
        self.diagnostics = diagnostics
    }

    /// Only the diagnostics that refuse the group.
    public var errors: [GroupDiagnostic] { diagnostics.filter { $0.severity == .error } }

    /// Every diagnostic, one per line.
    public var description: String {
        diagnostics.map(\.description).joined(separator: "\n")
    }
}
