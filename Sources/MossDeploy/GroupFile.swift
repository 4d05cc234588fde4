import Foundation
import Yams

/// Reads group files: YAML, or JSON (which is YAML). Everything is validated before anything is returned,
/// and a refused file reports every problem found, not just the first.
public enum GroupFile {
    /// Parses and validates group file text; `file` names it in diagnostics.
    /// Relative paths are resolved against `context.baseDirectory`.
    public static func parse(
        _ text: String,
        file: String,
        context: GroupContext
    ) throws(GroupValidationError) -> (group: GroupDefinition, warnings: [GroupDiagnostic]) {
        let reader = GroupReader(file: file, context: context)
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw GroupValidationError(diagnostics: [syntaxDiagnostic(error, file: file)])
        }
        guard let root else {
            let diagnostic = GroupDiagnostic(
                severity: .error,
                file: file,
                field: "",
                message: "the file is empty; a group needs at least core: {thingName: …}"
            )
            throw GroupValidationError(diagnostics: [diagnostic])
        }
        let group = reader.readGroup(root)
        reader.checkRules(group)
        let diagnostics = ordered(reader.diagnostics)
        if diagnostics.contains(where: { $0.severity == .error }) {
            throw GroupValidationError(diagnostics: diagnostics)
        }
        return (group, diagnostics)
    }

    /// Reads and validates the group file at `path`; relative paths in it are relative to the file.
    public static func load(
        path: String,
        context: GroupContext
    ) throws(GroupValidationError) -> (group: GroupDefinition, warnings: [GroupDiagnostic]) {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            let diagnostic = GroupDiagnostic(
                severity: .error,
                file: path,
                field: "",
                message: "cannot read the file (\(error.localizedDescription))"
            )
            throw GroupValidationError(diagnostics: [diagnostic])
        }
        var context = context
        context.baseDirectory = URL(fileURLWithPath: context.absolute(path)).deletingLastPathComponent().path
        return try parse(text, file: path, context: context)
    }

    /// File order: by line, then column; diagnostics without a position last. Stable otherwise.
    private static func ordered(_ diagnostics: [GroupDiagnostic]) -> [GroupDiagnostic] {
        diagnostics.enumerated().sorted { a, b in
            let left = (a.element.line ?? Int.max, a.element.column ?? 0, a.offset)
            let right = (b.element.line ?? Int.max, b.element.column ?? 0, b.offset)
            return left < right
        }.map(\.element)
    }

    private static func syntaxDiagnostic(_ error: any Error, file: String) -> GroupDiagnostic {
        var line: Int?
        var column: Int?
        var message = "not valid YAML or JSON: \(error)"
        if let yaml = error as? YamlError {
            switch yaml {
            case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
                .composer(let context, let problem, let mark, _):
                (line, column) = (mark.line, mark.column)
                message = "not valid YAML or JSON: " + problem + (context.map { " (\($0.text))" } ?? "")
            case .duplicatedKeysInMapping(let duplicates, let context):
                (line, column) = (context.mark.line, context.mark.column)
                message = "duplicate key \(duplicates.map(quoted).joined(separator: ", ")) in a mapping"
            default:
                break
            }
        }
        return GroupDiagnostic(severity: .error, file: file, line: line, column: column, field: "", message: message)
    }
}
