/// Every key the group file accepts, per kind of mapping. The JSON Schema in docs/group.schema.json names its
/// definitions after these kinds, and a test checks that both list the same keys.
package enum GroupKeys {
    package static let group = [
        "$schema", "core", "devices", "functions", "subscriptions", "resources", "logging", "defaultConfig",
        "pipelines",
    ]
    package static let core = ["thingName", "syncShadow", "namedShadows", "syncDirection"]
    package static let device = ["thingName", "certificate", "syncShadow", "namedShadows", "syncDirection"]
    package static let function = [
        "id", "name", "version", "runtime", "handler", "executable", "code", "pinned", "timeout", "memorySize",
        "encodingType", "environment", "execArgs", "isolationMode", "runAs", "accessSysfs", "resourceAccessPolicies",
    ]
    package static let environment = ["variables"]
    package static let runAs = ["uid", "gid"]
    package static let resourceAccessPolicy = ["resourceId", "permission"]
    package static let subscription = ["id", "source", "subject", "target"]
    package static let resource = ["id", "name", "localVolume", "localDevice", "machineLearningModel"]
    package static let localVolume = ["sourcePath", "destinationPath", "groupOwnerSetting"]
    package static let localDevice = ["sourcePath", "groupOwnerSetting"]
    package static let groupOwnerSetting = ["autoAddGroupOwner", "groupOwner"]
    package static let machineLearningModel = ["source", "destinationPath", "ownerSetting", "sha256"]
    package static let ownerSetting = ["groupOwner", "groupPermission"]
    package static let logging = ["id", "component", "level", "space", "type"]
    package static let defaultConfig = ["execution"]
    package static let execution = ["isolationMode", "runAs"]
    package static let pipeline = ["id", "input", "models", "threshold", "output", "every"]
    package static let pipelineInput = ["shadow", "fields"]
    package static let pipelineOutput = ["shadow", "topic", "field", "scoreField"]

    /// Kind name → keys; the kind names are the schema's `$defs` (the whole file is `group`).
    package static let all: [String: [String]] = [
        "group": group, "core": core, "device": device, "function": function, "environment": environment,
        "runAs": runAs, "resourceAccessPolicy": resourceAccessPolicy, "subscription": subscription,
        "resource": resource, "localVolume": localVolume, "localDevice": localDevice,
        "groupOwnerSetting": groupOwnerSetting, "machineLearningModel": machineLearningModel,
        "ownerSetting": ownerSetting, "logging": logging, "defaultConfig": defaultConfig, "execution": execution,
        "pipeline": pipeline, "pipelineInput": pipelineInput, "pipelineOutput": pipelineOutput,
    ]
}
