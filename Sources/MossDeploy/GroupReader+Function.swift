import Yams

extension GroupReader {
    func readFunction(_ field: Field, defaults: GroupDefinition.Execution?) -> GroupDefinition.Function {
        var function = GroupDefinition.Function(id: "", name: "", runtime: .python3_13, code: "")
        function.isolationMode = defaults?.isolationMode ?? .greengrassContainer
        function.runAs = defaults?.runAs
        let required = ["id", "name", "runtime", "code"]
        guard let fields = mapping(field, keys: GroupKeys.function, required: required) else { return function }
        if let value = fields["id"] { function.id = name(value, .v1("function id")) ?? "" }
        if let value = fields["name"] { function.name = name(value, .functionName) ?? "" }
        if let value = fields["version"] { function.version = readVersion(value) ?? "1" }
        let runtime: GroupDefinition.Runtime? = fields["runtime"].flatMap { choice($0) }
        if let runtime { function.runtime = runtime }
        if let value = fields["code"] { function.code = readCode(value) ?? "" }
        if let runtime {
            readEntryPoint(fields, in: field, runtime: runtime, into: &function)
            if runtime == .executable { function.encodingType = .binary }
        }
        if let value = fields["encodingType"], let encoding: GroupDefinition.EncodingType = choice(value) {
            if runtime == .executable && encoding == .json {
                error(value, "executables take binary events only (as in V1); expected binary")
            }
            function.encodingType = encoding
        }
        if let value = fields["pinned"] { function.pinned = boolean(value) ?? false }
        if let value = fields["timeout"] {
            function.timeout = integer(value, in: GroupLimits.timeout, unit: "seconds") ?? 3
        }
        if let value = fields["memorySize"] {
            function.memorySize = integer(value, in: GroupLimits.memorySize, unit: "KB")
        }
        if let value = fields["environment"] { function.environment = readEnvironment(value) }
        if let value = fields["execArgs"] { function.execArgs = string(value) }
        if let value = fields["isolationMode"], let mode: GroupDefinition.IsolationMode = choice(value) {
            function.isolationMode = mode
        }
        if let value = fields["runAs"] { function.runAs = readRunAs(value) }
        if let value = fields["accessSysfs"] { function.accessSysfs = boolean(value) ?? false }
        if let value = fields["resourceAccessPolicies"] {
            function.resourceAccessPolicies = (list(value, of: "resource access policies") ?? []).map(readPolicy)
        }
        return function
    }

    /// A published version number or an alias; V1 refused `$LATEST` because a deployment must not move.
    private func readVersion(_ field: Field) -> String? {
        guard let text = string(field) else { return nil }
        if text == "$LATEST" {
            error(field, "\"$LATEST\" is not allowed (as in V1); expected a version number or an alias")
            return nil
        }
        if text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            guard let number = Int(text), number >= 1 else {
                error(field, "\(quoted(text)) is not a version; versions start at 1")
                return nil
            }
            return String(number)
        }
        if let problem = NameRule.alias.problem(text) {
            error(field, problem)
            return nil
        }
        return text
    }

    private func readCode(_ field: Field) -> String? {
        guard let text = string(field) else { return nil }
        let path = context.absolute(text)
        guard context.fileExists(path) else {
            error(field, "\(quoted(text)) does not exist (looked for \(path)); expected a directory or a .zip file")
            return nil
        }
        return path
    }

    /// Python functions name a `module.function` handler, executables a program inside the code directory.
    private func readEntryPoint(
        _ fields: [String: Field],
        in field: Field,
        runtime: GroupDefinition.Runtime,
        into function: inout GroupDefinition.Function
    ) {
        let (wanted, unwanted) = runtime.isPython ? ("handler", "executable") : ("executable", "handler")
        if let extra = fields[unwanted] {
            let message =
                runtime.isPython
                ? "is for the executable runtime; a \(runtime.rawValue) function names its handler in handler"
                : "is for python runtimes; an executable function names its program in executable"
            error(Field(node: extra.node, path: extra.path), message)
        }
        guard let value = fields[wanted] else {
            let hint =
                runtime.isPython ? "module.function, e.g. lambda_function.function_handler" : "the program to run"
            error(field.child(wanted, field.node), "is required for the \(runtime.rawValue) runtime (\(hint))")
            return
        }
        guard let text = string(value) else { return }
        if runtime.isPython {
            function.handler = text
            checkHandler(text, value, code: function.code)
        } else {
            function.executable = text
            checkExecutable(text, value, code: function.code)
        }
    }

    private func checkHandler(_ handler: String, _ field: Field, code: String) {
        let parts = handler.split(separator: ".", omittingEmptySubsequences: false)
        let isIdentifier: (Substring) -> Bool = { part in
            guard let first = part.utf8.first, !(first >= 0x30 && first <= 0x39) else { return false }
            return part.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == UInt8(ascii: "_")
            }
        }
        guard parts.count >= 2, parts.allSatisfy(isIdentifier) else {
            error(
                field,
                "\(quoted(handler)) is not a handler; expected module.function, e.g. lambda_function.function_handler"
            )
            return
        }
        // Only a directory can be looked into without unpacking; a zip is checked when it is staged.
        guard !code.isEmpty, !code.hasSuffix(".zip") else { return }
        let module = code + "/" + parts.dropLast().joined(separator: "/")
        if !context.fileExists(module + ".py") && !context.fileExists(module + "/__init__.py") {
            error(
                field,
                "module of \(quoted(handler)) not found: neither \(module).py nor \(module)/__init__.py exists"
            )
        }
    }

    private func checkExecutable(_ executable: String, _ field: Field, code: String) {
        let parts = executable.split(separator: "/", omittingEmptySubsequences: false)
        guard !executable.hasPrefix("/"), !parts.contains(".."), !parts.contains("") else {
            error(field, "\(quoted(executable)) must be a relative path inside the code directory, without ..")
            return
        }
        guard !code.isEmpty, !code.hasSuffix(".zip") else { return }
        if !context.fileExists(code + "/" + executable) {
            error(field, "\(quoted(executable)) not found in the code directory (looked for \(code)/\(executable))")
        }
    }

    private func readEnvironment(_ field: Field) -> GroupDefinition.Environment {
        var environment = GroupDefinition.Environment()
        guard let fields = mapping(field, keys: GroupKeys.environment), let variables = fields["variables"] else {
            return environment
        }
        if isNull(variables.node) { return environment }
        guard case .mapping(let pairs) = variables.node else {
            error(variables, "expected a mapping of names to strings, got \(describe(variables.node))")
            return environment
        }
        for (keyNode, valueNode) in pairs {
            guard case .scalar(let key) = keyNode else {
                error(Field(node: keyNode, path: variables.path), "variable names must be plain strings")
                continue
            }
            let keyField = variables.child(key.string, keyNode)
            let valueField = variables.child(key.string, valueNode)
            if let problem = NameRule.environmentVariable.problem(key.string) {
                error(keyField, problem)
                continue
            }
            if let reason = ReservedEnvironment.refused(key.string) {
                error(keyField, reason)
                continue
            }
            if let reason = ReservedEnvironment.overridden(key.string) { warning(keyField, reason) }
            // An empty value is a value; only a missing one is refused.
            guard case .scalar(let scalar) = valueNode, !isNull(valueNode) else {
                error(valueField, "expected a string value, got \(describe(valueNode))")
                continue
            }
            environment.variables[key.string] = scalar.string
        }
        return environment
    }

    private func readPolicy(_ field: Field) -> GroupDefinition.ResourceAccessPolicy {
        var policy = GroupDefinition.ResourceAccessPolicy(resourceId: "")
        guard let fields = mapping(field, keys: GroupKeys.resourceAccessPolicy, required: ["resourceId"]) else {
            return policy
        }
        if let value = fields["resourceId"] { policy.resourceId = name(value, .v1("resource id")) ?? "" }
        if let value = fields["permission"] { policy.permission = choice(value) ?? .readOnly }
        return policy
    }
}
