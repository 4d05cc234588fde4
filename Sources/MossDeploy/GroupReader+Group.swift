import Yams

extension GroupReader {
    /// Reads the whole file. The result has placeholders where values were bad; it is only returned to
    /// callers when no error was recorded.
    func readGroup(_ root: Node) -> GroupDefinition {
        var group = GroupDefinition(core: GroupDefinition.Core(thingName: ""))
        let top = Field(node: root, path: "")
        guard let fields = mapping(top, keys: GroupKeys.group, required: ["core"]) else { return group }
        if let field = fields["$schema"] { _ = string(field) }
        if let field = fields["defaultConfig"] { group.defaultExecution = readDefaultConfig(field) }
        if let field = fields["core"] { group.core = readCore(field) }
        if let field = fields["devices"] { group.devices = (list(field, of: "devices") ?? []).map(readDevice) }
        if let field = fields["resources"] {
            group.resources = (list(field, of: "resources") ?? []).map(readResource)
        }
        if let field = fields["functions"] {
            group.functions = (list(field, of: "functions") ?? []).map {
                readFunction($0, defaults: group.defaultExecution)
            }
        }
        if let field = fields["subscriptions"] {
            group.subscriptions = (list(field, of: "subscriptions") ?? []).map(readSubscription)
        }
        if let field = fields["logging"] { group.logging = (list(field, of: "loggers") ?? []).map(readLogging) }
        if let field = fields["pipelines"] {
            group.pipelines = (list(field, of: "pipelines") ?? []).map(readPipeline)
        }
        return group
    }

    private func readCore(_ field: Field) -> GroupDefinition.Core {
        var core = GroupDefinition.Core(thingName: "")
        guard let fields = mapping(field, keys: GroupKeys.core, required: ["thingName"]) else { return core }
        if let value = fields["thingName"] { core.thingName = name(value, .v1("thing name")) ?? "" }
        if let value = fields["syncShadow"] { core.syncShadow = boolean(value) ?? false }
        if let value = fields["namedShadows"] { core.namedShadows = readShadowNames(value) }
        if let value = fields["syncDirection"] { core.syncDirection = choice(value) ?? .both }
        return core
    }

    private func readDevice(_ field: Field) -> GroupDefinition.Device {
        var device = GroupDefinition.Device(thingName: "")
        guard let fields = mapping(field, keys: GroupKeys.device, required: ["thingName"]) else { return device }
        if let value = fields["thingName"] { device.thingName = name(value, .v1("thing name")) ?? "" }
        if let value = fields["certificate"] { device.certificate = readCertificate(value) }
        if let value = fields["syncShadow"] { device.syncShadow = boolean(value) ?? false }
        if let value = fields["namedShadows"] { device.namedShadows = readShadowNames(value) }
        if let value = fields["syncDirection"] { device.syncDirection = choice(value) ?? .both }
        return device
    }

    private func readCertificate(_ field: Field) -> GroupDefinition.Certificate? {
        guard let text = string(field) else { return nil }
        if text.hasPrefix("sha256:") {
            // `openssl x509 -fingerprint` prints colon-separated uppercase pairs; `moss certs` plain lowercase.
            let hex = String(text.dropFirst(7).filter { $0 != ":" }).lowercased()
            guard isHex(hex, count: 64) else {
                error(field, "\(quoted(text)) is not a SHA-256 fingerprint; expected sha256: and 64 hex digits")
                return nil
            }
            return .fingerprint(hex)
        }
        let path = context.absolute(text)
        guard context.fileExists(path) else {
            error(
                field,
                "\(quoted(text)) does not exist (looked for \(path)); expected a PEM file or sha256:FINGERPRINT"
            )
            return nil
        }
        return .file(path)
    }

    private func readShadowNames(_ field: Field) -> [String] {
        var names: [String] = []
        for element in list(field, of: "shadow names") ?? [] {
            guard let value = name(element, .shadowName) else { continue }
            if names.contains(value) {
                error(element, "\(quoted(value)) is listed twice")
                continue
            }
            names.append(value)
        }
        return names
    }

    private func readDefaultConfig(_ field: Field) -> GroupDefinition.Execution? {
        guard let fields = mapping(field, keys: GroupKeys.defaultConfig), let execution = fields["execution"] else {
            return nil
        }
        return readExecution(execution)
    }

    private func readExecution(_ field: Field) -> GroupDefinition.Execution? {
        guard let fields = mapping(field, keys: GroupKeys.execution) else { return nil }
        var execution = GroupDefinition.Execution()
        if let value = fields["isolationMode"] { execution.isolationMode = choice(value) }
        if let value = fields["runAs"] { execution.runAs = readRunAs(value) }
        return execution
    }

    func readRunAs(_ field: Field) -> GroupDefinition.RunAs? {
        guard let fields = mapping(field, keys: GroupKeys.runAs, required: ["uid", "gid"]),
            let uidField = fields["uid"], let gidField = fields["gid"]
        else { return nil }
        // 4294967295 is (uid_t)-1, "no change", to the kernel.
        let uid = integer(uidField, in: 0...4_294_967_294)
        let gid = integer(gidField, in: 0...4_294_967_294)
        guard let uid, let gid else { return nil }
        if uid == 0 || gid == 0 {
            warning(
                field,
                "runs the function as root (uid or gid 0); V1 allowed this only with allowFunctionsToRunAsRoot"
            )
        }
        return GroupDefinition.RunAs(uid: uid, gid: gid)
    }

    private func readLogging(_ field: Field) -> GroupDefinition.LoggingConfiguration {
        var logger = GroupDefinition.LoggingConfiguration(component: .greengrassSystem)
        guard let fields = mapping(field, keys: GroupKeys.logging, required: ["component"]) else { return logger }
        if let value = fields["id"] { logger.id = name(value, .v1("logger id")) }
        if let value = fields["component"], let component: GroupDefinition.LogComponent = choice(value) {
            logger.component = component
        }
        if let value = fields["level"] { logger.level = choice(value) ?? .info }
        if let value = fields["type"] { logger.type = choice(value) ?? .fileSystem }
        if let value = fields["space"] {
            logger.space = integer(value, in: 1...GroupLimits.maximumLogSpace, unit: "KB") ?? 128
            if logger.type == .awsCloudWatch { warning(value, "space applies to FileSystem loggers only; ignored") }
        }
        return logger
    }
}
