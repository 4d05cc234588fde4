import Foundation
import MossDeploy
import MossFunctions
import MossResources

/// Puts the group's functions into effect in the function host: pinned ones start, on-demand ones wait for work.
///
/// GreengrassContainer functions run in a container `moss launch-function` assembles (code at /lambda, local volume
/// and device resources at their paths, /sys only with accessSysfs); NoContainer ones run directly. Either way the
/// launcher puts the worker in its memory cgroup and switches to its user (``FunctionUserPolicy``); a user that could
/// not reach its interpreter, runtime or code is refused here rather than failing in the function's log.
struct FunctionsStage: DeploymentStage {
    /// A function without memorySize gets 128 MB.
    static let defaultMemorySizeKB = 128 * 1024

    let host: FunctionHost
    /// Where the clean-room Python runtime modules were installed at start.
    let pythonRuntime: String
    let pythons: PythonInterpreters
    let users: FunctionUserPolicy
    let logDirectory: String
    let region: String
    let account: String
    /// The versions ResourcesStage prepared for this deployment.
    let resources: ResourceCatalog
    /// Zipped function code, unpacked once per content.
    let code: FunctionCodeInstaller
    /// The IPC inference service, told which models each function has attached.
    let inference: InferenceService?

    func prepare(_ group: GroupDefinition?) async throws -> any PreparedStage {
        // A reset (no group): no functions, and, as V1's reset, no function logs.
        guard let group else {
            return Prepared(host: host, specs: [], removeLogs: logDirectory, inference: inference, models: [:], code: code, keepCode: [])
        }
        var specs: [FunctionSpec] = []
        var models: [String: [String: String]] = [:]
        var codeDirectories: [String] = []
        for function in group.functions {
            var function = function
            function.code = try code.directory(for: function)
            codeDirectories.append(function.code)
            let spec = try spec(for: function, in: group)
            specs.append(spec)
            models[spec.arn] = attachedModels(of: function, in: group)
        }
        return Prepared(host: host, specs: specs, removeLogs: nil, inference: inference, models: models, code: code, keepCode: codeDirectories)
    }

    /// The machine learning resources `function` has attached, with their models.
    private func mlResources(
        of function: GroupDefinition.Function,
        in group: GroupDefinition
    ) -> [(resource: GroupDefinition.Resource, model: GroupDefinition.MachineLearningModel)] {
        function.resourceAccessPolicies.compactMap { policy in
            guard let resource = group.resources.first(where: { $0.id == policy.resourceId }),
                case .machineLearningModel(let model) = resource.kind
            else { return nil }
            return (resource, model)
        }
    }

    /// The inference service's names for the ML resources `function` has attached (name and id) → their directories.
    private func attachedModels(of function: GroupDefinition.Function, in group: GroupDefinition) -> [String: String] {
        var models: [String: String] = [:]
        for (resource, _) in mlResources(of: function, in: group) {
            guard let directory = resources.preparedDirectory(of: resource.id) else { continue }
            models[resource.id] = directory
            models[resource.name] = directory
        }
        return models
    }

    /// The groups that own the function's ML resources (V1 1.10 added them to its supplementary groups).
    private func modelOwnerGroups(of function: GroupDefinition.Function, in group: GroupDefinition) throws(DeploymentStageError) -> [UInt32] {
        var gids: [UInt32] = []
        for (resource, model) in mlResources(of: function, in: group) {
            guard let owner = model.ownerSetting else { continue }
            let gid: UInt32
            do {
                gid = try ResourceOwner(group: owner.groupOwner, writable: owner.groupPermission == .readWrite).gid
            } catch {
                throw DeploymentStageError(code: error.code.rawValue, message: "Function \(function.name): \(error.message)")
            }
            // The root group would give the function root's group rights: the same rule as a runAs gid of 0.
            if gid == 0 && !users.allowRoot && users.daemon.uid == 0 {
                throw DeploymentStageError(
                    code: "FunctionRunAsRootNotAllowed",
                    message: "Function \(function.name) would join the root group through the ownerSetting of resource "
                        + "\(resource.name) (groupOwner \(owner.groupOwner)), which the core configuration does not allow: "
                        + "give the model a group of its own, or set functions.allowFunctionsToRunAsRoot: true"
                )
            }
            gids.append(gid)
        }
        return Array(Set(gids)).sorted()
    }

    private func spec(for function: GroupDefinition.Function, in group: GroupDefinition) throws(DeploymentStageError) -> FunctionSpec {
        let contained = function.isolationMode == .greengrassContainer
        var user = try users.user(for: function)
        if user != nil { user?.supplementaryGroups = try modelOwnerGroups(of: function, in: group) }
        if contained && geteuid() != 0 {
            throw DeploymentStageError(
                code: "ContainerUnavailable",
                message: "Function \(function.name) has isolationMode GreengrassContainer, which needs mount namespaces: "
                    + "run Moss as root, or set isolationMode: NoContainer"
            )
        }
        // Inside a container the code is at /lambda and the runtime at /runtime/python.
        let runtimeDirectory = contained ? "/runtime/python" : pythonRuntime
        let codeDirectory = contained ? "/lambda" : function.code
        let command: [String]
        let python = pythons.interpreter(for: function.runtime)
        if let handler = function.handler {
            command = [python, PythonRuntime.bootstrap(in: runtimeDirectory), "--handler=\(handler)"]
        } else if let executable = function.executable {
            let arguments = function.execArgs.map { $0.split(separator: " ").map(String.init) } ?? []
            command = [codeDirectory + "/" + executable] + arguments
        } else {
            throw DeploymentStageError(code: "FunctionInvalid", message: "Function \(function.name) has neither a handler nor an executable")
        }
        if let user, user.uid != 0 {
            try checkAccess(of: function, as: user, contained: contained, python: python)
        }
        var environment = function.environment.variables
        // V1's informational variables (greengrass-v1.md §3.2); the group's own values win where it sets them.
        let informational = [
            "AWS_REGION": region, "AWS_DEFAULT_REGION": region, "AWS_IOT_THING_NAME": group.core.thingName,
            "AWS_IOT_THING_ARN": "arn:aws:iot:\(region):\(account):thing/\(group.core.thingName)",
            "AWS_GG_RESOURCE_PREFIX": "/",
        ]
        environment.merge(informational) { own, _ in own }
        // The group's Lambda logger: the runtime's log appender drops records below its level; the file keeps Space.
        let lambdaLogger = group.logging.first { $0.component == .lambda && $0.type == .fileSystem }
        environment["LOG_LEVEL"] = environment["LOG_LEVEL"] ?? (lambdaLogger?.level ?? .info).rawValue
        if !contained {
            environment["AWS_GG_RESOURCE_PREFIX"] = try resourcePrefix(for: function, in: group)
        }
        // The runtime counts context.get_remaining_time_in_millis() down from this.
        environment["MOSS_FUNCTION_TIMEOUT_MS"] = "\(function.timeout * 1000)"
        // As V1: the group's PYTHONPATH first ("/mllibs" ran as "/mllibs:/lambda"), then the code, then the runtime.
        environment["PYTHONPATH"] = [environment["PYTHONPATH"], codeDirectory, runtimeDirectory].compactMap { $0 }
            .joined(separator: ":")
        var container: ContainerSpec?
        if contained {
            var mounts = [
                ContainerSpec.Mount(source: function.code, destination: "/lambda", readOnly: true),
                ContainerSpec.Mount(source: pythonRuntime, destination: "/runtime/python", readOnly: true),
            ]
            for policy in function.resourceAccessPolicies {
                guard let resource = group.resources.first(where: { $0.id == policy.resourceId }) else { continue }
                let readOnly = policy.permission == .readOnly
                switch resource.kind {
                case .localVolume(let volume):
                    mounts.append(.init(source: volume.sourcePath, destination: volume.destinationPath, readOnly: readOnly))
                case .localDevice(let device):
                    mounts.append(.init(source: device.sourcePath, destination: device.sourcePath, readOnly: readOnly))
                case .machineLearningModel(let model):
                    // The prepared version's own directory: a new version is a new mount, so the host restarts it.
                    guard let directory = resources.preparedDirectory(of: resource.id) else { continue }
                    mounts.append(.init(source: directory, destination: model.destinationPath, readOnly: readOnly))
                }
            }
            container = ContainerSpec(
                root: "",
                mounts: mounts,
                accessSysfs: function.accessSysfs,
                workingDirectory: "/lambda",
                command: command,
                environment: environment
            )
        }
        return FunctionSpec(
            arn: "arn:aws:lambda:\(region):\(account):function:\(function.name):\(function.version)",
            name: function.name,
            command: command,
            workingDirectory: function.code,
            environment: environment,
            pinned: function.pinned,
            timeoutSeconds: function.timeout,
            encodingType: function.encodingType.rawValue,
            logFile: logDirectory + "/\(function.name).log",
            container: container,
            // V1's 16 MB no longer fits a modern Python (3.11 needs about 20 MB to import its standard library).
            memoryLimitBytes: (function.memorySize ?? Self.defaultMemorySizeKB) * 1024,
            user: user,
            logLimitBytes: (lambdaLogger?.space ?? 128) * 1024
        )
    }

    /// Refuses a function whose user cannot run its interpreter or read its code and the runtime. In a container
    /// the code and the runtime are bound in, so only their own modes count; without one, every directory above too.
    private func checkAccess(
        of function: GroupDefinition.Function,
        as user: FunctionUser,
        contained: Bool,
        python: String
    ) throws(DeploymentStageError) {
        var checks: [(what: String, path: String, need: UserAccess.Need, throughParents: Bool)] = [
            ("its code", function.code, .readDirectory, !contained)
        ]
        if function.handler != nil {
            checks.append(("its Python (functions.python)", python, .execute, true))
            checks.append(("Moss's Python runtime", pythonRuntime, .readDirectory, !contained))
        } else if let executable = function.executable {
            checks.append(("its executable", function.code + "/" + executable, .execute, !contained))
        }
        for check in checks {
            if let obstacle = UserAccess.obstacle(to: check.path, for: user, need: check.need, throughParents: check.throughParents) {
                throw DeploymentStageError(
                    code: "FunctionUserCannotAccess",
                    message: "Function \(function.name) runs as \(user), which cannot use \(check.what) at \(check.path): "
                        + "\(obstacle). Make it readable by that user, or give the function another runAs"
                )
            }
        }
    }

    /// A NoContainer function finds its models under AWS_GG_RESOURCE_PREFIX (V1): a directory of its own with a
    /// link at each model's destination path.
    private func resourcePrefix(
        for function: GroupDefinition.Function,
        in group: GroupDefinition
    ) throws(DeploymentStageError) -> String {
        let links = mlResources(of: function, in: group).map { (destinationPath: $0.model.destinationPath, resourceId: $0.resource.id) }
        guard !links.isEmpty else { return "/" }
        do {
            return try resources.prefix(forFunction: function.name, links: links)
        } catch {
            throw DeploymentStageError(code: error.code.rawValue, message: "Function \(function.name): \(error.message)")
        }
    }

    private struct Prepared: PreparedStage {
        let host: FunctionHost
        let specs: [FunctionSpec]
        let removeLogs: String?
        let inference: InferenceService?
        let models: [String: [String: String]]
        let code: FunctionCodeInstaller
        /// Code directories this deployment uses; other unpacked code is removed once it is in effect.
        let keepCode: [String]

        func activate() async {
            await inference?.setAttachments(models)
            await host.install(specs)
            code.removeUnused(keeping: keepCode)
            if let removeLogs { try? FileManager.default.removeItem(atPath: removeLogs) }
        }
        func discard() async {}
    }
}
