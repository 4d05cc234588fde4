import Yams

extension GroupReader {
    func readResource(_ field: Field) -> GroupDefinition.Resource {
        let placeholder = GroupDefinition.Resource.Kind.localVolume(.init(sourcePath: "", destinationPath: ""))
        var resource = GroupDefinition.Resource(id: "", name: "", kind: placeholder)
        guard let fields = mapping(field, keys: GroupKeys.resource, required: ["id", "name"]) else { return resource }
        if let value = fields["id"] { resource.id = name(value, .v1("resource id")) ?? "" }
        if let value = fields["name"] { resource.name = name(value, .v1("resource name")) ?? "" }
        let kinds = ["localVolume", "localDevice", "machineLearningModel"]
        // The mapping's fields are unordered; the kind written first is the one kept.
        let present = kinds.compactMap { kind in fields[kind].map { (kind: kind, field: $0) } }
            .sorted { ($0.field.node.mark?.line ?? 0) < ($1.field.node.mark?.line ?? 0) }
        guard let first = present.first else {
            error(field, "needs one of \(kinds.joined(separator: ", "))")
            return resource
        }
        for extra in present.dropFirst() {
            error(
                extra.field,
                "a resource has exactly one of \(kinds.joined(separator: ", ")); this one is a \(first.kind)"
            )
        }
        switch first.kind {
        case "localVolume": resource.kind = readLocalVolume(first.field).map { .localVolume($0) } ?? placeholder
        case "localDevice": resource.kind = readLocalDevice(first.field).map { .localDevice($0) } ?? placeholder
        default: resource.kind = readModel(first.field).map { .machineLearningModel($0) } ?? placeholder
        }
        return resource
    }

    private func readLocalVolume(_ field: Field) -> GroupDefinition.LocalVolume? {
        let keys = GroupKeys.localVolume
        guard let fields = mapping(field, keys: keys, required: ["sourcePath", "destinationPath"]) else { return nil }
        var volume = GroupDefinition.LocalVolume(sourcePath: "", destinationPath: "")
        if let value = fields["sourcePath"], let path = absolutePath(value) {
            volume.sourcePath = path
            checkVolumeSource(path, value)
        }
        if let value = fields["destinationPath"] { volume.destinationPath = destinationPath(value) ?? "" }
        if let value = fields["groupOwnerSetting"] { volume.groupOwnerSetting = readGroupOwnerSetting(value) }
        return volume
    }

    /// V1's rules: volumes are files or directories outside /sys, /dev (but /dev/shm) and /var.
    private func checkVolumeSource(_ path: String, _ field: Field) {
        func isUnder(_ root: String) -> Bool { path == root || path.hasPrefix(root + "/") }
        if isUnder("/sys") {
            error(field, "\(quoted(path)) is under /sys, which V1 refused for volumes")
        } else if isUnder("/dev") && !isUnder("/dev/shm") {
            error(field, "\(quoted(path)) is under /dev; use a localDevice resource (only /dev/shm can be a volume)")
        } else if isUnder("/var") {
            error(field, "\(quoted(path)) is under /var, which V1 refused for volumes; mount it elsewhere first")
        }
    }

    private func readLocalDevice(_ field: Field) -> GroupDefinition.LocalDevice? {
        guard let fields = mapping(field, keys: GroupKeys.localDevice, required: ["sourcePath"]) else { return nil }
        var device = GroupDefinition.LocalDevice(sourcePath: "")
        if let value = fields["sourcePath"], let path = absolutePath(value) {
            if !path.hasPrefix("/dev/") || path == "/dev/shm" || path.hasPrefix("/dev/shm/") {
                error(value, "\(quoted(path)) is not a device; expected a character or block device under /dev")
            }
            device.sourcePath = path
        }
        if let value = fields["groupOwnerSetting"] { device.groupOwnerSetting = readGroupOwnerSetting(value) }
        return device
    }

    private func readGroupOwnerSetting(_ field: Field) -> GroupDefinition.GroupOwnerSetting {
        var setting = GroupDefinition.GroupOwnerSetting()
        guard let fields = mapping(field, keys: GroupKeys.groupOwnerSetting) else { return setting }
        if let value = fields["autoAddGroupOwner"] { setting.autoAddGroupOwner = boolean(value) ?? false }
        if let value = fields["groupOwner"] { setting.groupOwner = name(value, .groupOwner) }
        return setting
    }

    private func readModel(_ field: Field) -> GroupDefinition.MachineLearningModel? {
        let keys = GroupKeys.machineLearningModel
        guard let fields = mapping(field, keys: keys, required: ["source", "destinationPath"]) else { return nil }
        var model = GroupDefinition.MachineLearningModel(source: .file(""), destinationPath: "")
        if let value = fields["source"], let source = readModelSource(value) { model.source = source }
        if let value = fields["destinationPath"] { model.destinationPath = destinationPath(value) ?? "" }
        if let value = fields["ownerSetting"] { model.ownerSetting = readOwnerSetting(value) }
        if let value = fields["sha256"], let text = string(value) {
            if isHex(text, count: 64) {
                model.sha256 = text.lowercased()
            } else {
                error(value, "\(quoted(text)) is not a SHA-256 digest; expected 64 hex digits")
            }
        }
        return model
    }

    private func readModelSource(_ field: Field) -> GroupDefinition.ModelSource? {
        guard let text = string(field) else { return nil }
        switch ModelSourceSyntax.parse(text) {
        case .failure(let problem):
            error(field, problem.message)
            return nil
        case .success(.file(let written)):
            let path = context.absolute(written)
            guard context.fileExists(path) else {
                error(field, "\(quoted(text)) does not exist (looked for \(path)); \(ModelSourceSyntax.expected)")
                return nil
            }
            return .file(path)
        case .success(let source):
            return source
        }
    }

    private func readOwnerSetting(_ field: Field) -> GroupDefinition.OwnerSetting? {
        let required = GroupKeys.ownerSetting
        guard let fields = mapping(field, keys: GroupKeys.ownerSetting, required: required),
            let ownerField = fields["groupOwner"], let permissionField = fields["groupPermission"]
        else { return nil }
        let owner = name(ownerField, .groupOwner)
        let permission: GroupDefinition.Permission? = choice(permissionField)
        guard let owner, let permission else { return nil }
        return GroupDefinition.OwnerSetting(groupOwner: owner, groupPermission: permission)
    }

    /// An absolute path without `.` or `..` (a resource path must mean one place), trailing slashes removed.
    private func absolutePath(_ field: Field) -> String? {
        guard let text = string(field) else { return nil }
        let parts = text.split(separator: "/", omittingEmptySubsequences: true)
        guard text.hasPrefix("/"), !parts.contains("."), !parts.contains("..") else {
            error(field, "\(quoted(text)) is not an absolute path; expected /… without . or .. parts")
            return nil
        }
        return "/" + parts.joined(separator: "/")
    }

    private func destinationPath(_ field: Field) -> String? {
        guard let path = absolutePath(field) else { return nil }
        if path == "/" {
            error(field, "\"/\" cannot be a destination; expected a directory below it")
            return nil
        }
        return path
    }
}
