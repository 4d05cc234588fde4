import Foundation
import MossDeploy
import MossFunctions
import MossResources

/// Puts the group's functions into effect in the function host: pinned ones start, on-demand ones wait for work.
///
/// GreengrassContainer functions run in a container `moss launch-function` assembles (code at /lambda, local volume
/// and device resources at their paths, /sys only with accessSysfs); NoContainer ones run directly. Memory cgroups,
/// runAs and ML model resources come with the rest of issues 5 and 6.
struct FunctionsStage: DeploymentStage {
    /// A function without memorySize gets 128 MB.
    static let defaultMemorySizeKB = 128 * 1024

    let host: FunctionHost
    /// Where the clean-room Python runtime modules were installed at start.
    let pythonRuntime: String
    let pythonExecutable: String
    let logDirectory: String
    let region: String
    let account: String
    /// The versions ResourcesStage prepared for this deployment.
    let resources: ResourceCatalog

    func prepare(_ group: GroupDefinition?) async throws -> any PreparedStage {
        // A reset (no group): no functions, and, as V1's reset, no function logs.
        guard let group else { return Prepared(host: host, specs: [], removeLogs: logDirectory) }
        var specs: [FunctionSpec] = []
        for function in group.functions {
            specs.append(try spec(for: function, in: group))
        }
        return Prepared(host: host, specs: specs, removeLogs: nil)
    }

    private func spec(for function: GroupDefinition.Function, in group: GroupDefinition) throws(DeploymentStageError) -> FunctionSpec {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: function.code, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DeploymentStageError(
                code: "FunctionCodeUnsupported",
                message: "Function \(function.name): code \(function.code) is not a directory (zipped code is not supported yet: unpack it)"
            )
        }
        let contained = function.isolationMode == .greengrassContainer
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
        if let handler = function.handler {
            command = [pythonExecutable, PythonRuntime.bootstrap(in: runtimeDirectory), "--handler=\(handler)"]
        } else if let executable = function.executable {
            let arguments = function.execArgs.map { $0.split(separator: " ").map(String.init) } ?? []
            command = [codeDirectory + "/" + executable] + arguments
        } else {
            throw DeploymentStageError(code: "FunctionInvalid", message: "Function \(function.name) has neither a handler nor an executable")
        }
        var environment = function.environment.variables
        // V1's informational variables (greengrass-v1.md §3.2); the group's own values win where it sets them.
        let informational = [
            "AWS_REGION": region, "AWS_DEFAULT_REGION": region, "AWS_IOT_THING_NAME": group.core.thingName,
            "AWS_IOT_THING_ARN": "arn:aws:iot:\(region):\(account):thing/\(group.core.thingName)",
            "AWS_GG_RESOURCE_PREFIX": "/",
        ]
        environment.merge(informational) { own, _ in own }
        if !contained {
            environment["AWS_GG_RESOURCE_PREFIX"] = try resourcePrefix(for: function, in: group)
        }
        // The runtime counts context.get_remaining_time_in_millis() down from this.
        environment["MOSS_FUNCTION_TIMEOUT_MS"] = "\(function.timeout * 1000)"
        environment["PYTHONPATH"] = [runtimeDirectory, codeDirectory, environment["PYTHONPATH"]].compactMap { $0 }
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
            memoryLimitBytes: (function.memorySize ?? Self.defaultMemorySizeKB) * 1024
        )
    }

    /// A NoContainer function finds its models under AWS_GG_RESOURCE_PREFIX (V1): a directory of its own with a
    /// link at each model's destination path.
    private func resourcePrefix(
        for function: GroupDefinition.Function,
        in group: GroupDefinition
    ) throws(DeploymentStageError) -> String {
        let links = function.resourceAccessPolicies.compactMap { policy -> (destinationPath: String, resourceId: String)? in
            guard let resource = group.resources.first(where: { $0.id == policy.resourceId }),
                case .machineLearningModel(let model) = resource.kind
            else { return nil }
            return (model.destinationPath, resource.id)
        }
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

        func activate() async {
            await host.install(specs)
            if let removeLogs { try? FileManager.default.removeItem(atPath: removeLogs) }
        }
        func discard() async {}
    }
}
