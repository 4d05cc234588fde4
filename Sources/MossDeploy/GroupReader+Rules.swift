import MossMQTT

/// The rules that need more than one field: uniqueness, references, limits, and combinations V1 refused.
/// Fields that already failed are skipped, so one mistake is reported once.
extension GroupReader {
    func checkRules(_ group: GroupDefinition) {
        checkThings(group)
        checkFunctions(group)
        checkResources(group)
        checkSubscriptions(group)
        checkPipelines(group)
        checkLogging(group)
    }

    func usable(_ path: String, _ value: String) -> Bool {
        !value.isEmpty && !failedPaths.contains(path)
    }

    /// Records `value` as first seen at `path`, or reports that `earlier` already has it.
    func unique(
        _ value: String,
        at path: String,
        in seen: inout [String: String],
        what: String
    ) {
        guard usable(path, value) else { return }
        if let first = seen[value] {
            error(
                at: path,
                "\(quoted(value)) is already the \(what) of \(lineReference(first)); \(what)s must be unique"
            )
        } else {
            seen[value] = path
        }
    }

    func listing(_ all: [String]) -> String {
        var seen: Set<String> = []
        let names = all.filter { !$0.isEmpty && seen.insert($0).inserted }
        if names.isEmpty { return "none are defined" }
        let shown = names.prefix(10).joined(separator: ", ")
        return names.count > 10 ? shown + ", …" : shown
    }

    // MARK: - Core and devices

    private func checkThings(_ group: GroupDefinition) {
        var things: [String: String] = [:]
        unique(group.core.thingName, at: "core.thingName", in: &things, what: "thing name")
        var certificates: [String: String] = [:]
        for (index, device) in group.devices.enumerated() {
            unique(device.thingName, at: "devices[\(index)].thingName", in: &things, what: "thing name")
            if let certificate = device.certificate {
                let path = "devices[\(index)].certificate"
                // The certificate is how the TLS listener knows the thing: two things cannot share one.
                unique(certificate.description, at: path, in: &certificates, what: "certificate")
            }
        }
        if group.devices.count > GroupLimits.maximumDevices {
            error(
                at: "devices",
                "\(group.devices.count) devices; a group has at most \(GroupLimits.maximumDevices) (V1's quota)"
            )
        }
        checkSync(thing: "core", group.core.syncShadow, group.core.namedShadows)
        for (index, device) in group.devices.enumerated() {
            checkSync(thing: "devices[\(index)]", device.syncShadow, device.namedShadows)
        }
    }

    private func checkSync(thing path: String, _ syncShadow: Bool, _ namedShadows: [String]) {
        if !syncShadow && namedShadows.isEmpty && !failedPaths.contains(path + ".syncDirection") {
            if hasMark(path + ".syncDirection") {
                warning(
                    at: path + ".syncDirection",
                    "has no effect: syncShadow is false and no namedShadows are listed"
                )
            }
        }
    }

    // MARK: - Functions

    private func checkFunctions(_ group: GroupDefinition) {
        var ids: [String: String] = [:]
        var names: [String: String] = [:]
        var resources: [String: GroupDefinition.Resource] = [:]
        for resource in group.resources where resources[resource.id] == nil { resources[resource.id] = resource }
        for (index, function) in group.functions.enumerated() {
            let path = "functions[\(index)]"
            unique(function.id, at: path + ".id", in: &ids, what: "function id")
            unique(function.name, at: path + ".name", in: &names, what: "function name")
            if function.isolationMode == .noContainer {
                if function.memorySize != nil && !failedPaths.contains(path + ".memorySize") {
                    error(
                        at: path + ".memorySize",
                        "applies to GreengrassContainer functions only; V1 required it cleared for NoContainer"
                    )
                }
                if function.accessSysfs {
                    warning(
                        at: path + ".accessSysfs",
                        "has no effect for a NoContainer function, which sees /sys anyway"
                    )
                }
            }
            checkPolicies(function, at: path, resources: resources, allResources: group.resources.map(\.id))
        }
    }

    private func checkPolicies(
        _ function: GroupDefinition.Function,
        at functionPath: String,
        resources: [String: GroupDefinition.Resource],
        allResources: [String]
    ) {
        let path = functionPath + ".resourceAccessPolicies"
        let count = function.resourceAccessPolicies.count
        if count > GroupLimits.maximumResourceAccessPolicies {
            error(
                at: path,
                "\(count) policies; a function may use at most \(GroupLimits.maximumResourceAccessPolicies) resources (V1's quota)"
            )
        }
        var seen: [String: String] = [:]
        for (index, policy) in function.resourceAccessPolicies.enumerated() {
            let idPath = "\(path)[\(index)].resourceId"
            let permissionPath = "\(path)[\(index)].permission"
            guard usable(idPath, policy.resourceId) else { continue }
            if let first = seen[policy.resourceId] {
                error(at: idPath, "\(quoted(policy.resourceId)) is already referenced by \(lineReference(first))")
                continue
            }
            seen[policy.resourceId] = idPath
            guard let resource = resources[policy.resourceId] else {
                error(
                    at: idPath,
                    "\(quoted(policy.resourceId)) names no resource of this group; resources: \(listing(allResources))"
                )
                continue
            }
            let readWrite = policy.permission == .readWrite && !failedPaths.contains(permissionPath)
            switch resource.kind {
            case .localVolume(let volume):
                if function.isolationMode == .noContainer {
                    error(
                        at: idPath,
                        "a NoContainer function cannot use a localVolume resource (as in V1); it reads \(volume.sourcePath) directly"
                    )
                } else if readWrite && (volume.sourcePath == "/proc" || volume.sourcePath.hasPrefix("/proc/")) {
                    error(at: permissionPath, "volumes under /proc are read-only (as in V1); expected ro")
                }
            case .localDevice(let device):
                if function.isolationMode == .noContainer {
                    error(
                        at: idPath,
                        "a NoContainer function cannot use a localDevice resource (as in V1); it opens \(device.sourcePath) directly"
                    )
                }
            case .machineLearningModel(let model):
                if function.isolationMode == .noContainer && model.ownerSetting == nil {
                    error(at: idPath, "a NoContainer function needs the resource's ownerSetting (as in V1 1.10)")
                }
                if readWrite, let owner = model.ownerSetting, owner.groupPermission == .readOnly {
                    error(
                        at: permissionPath,
                        "rw is wider than the resource's ownerSetting (ro); a function's permission must be equal or stricter"
                    )
                }
            }
        }
    }

    // MARK: - Resources

    private func checkResources(_ group: GroupDefinition) {
        var ids: [String: String] = [:]
        var destinations: [(path: String, value: String)] = []
        for (index, resource) in group.resources.enumerated() {
            let path = "resources[\(index)]"
            unique(resource.id, at: path + ".id", in: &ids, what: "resource id")
            let destinationPath: String
            switch resource.kind {
            case .localVolume: destinationPath = path + ".localVolume.destinationPath"
            case .localDevice: destinationPath = path + ".localDevice.sourcePath"
            case .machineLearningModel: destinationPath = path + ".machineLearningModel.destinationPath"
            }
            let destination = resource.destinationPath
            guard usable(destinationPath, destination) else { continue }
            // Nested destinations collide too: one mount would hide or sit inside the other.
            if let other = destinations.first(where: { overlaps($0.value, destination) }) {
                error(
                    at: destinationPath,
                    "\(quoted(destination)) collides with \(quoted(other.value)) of \(lineReference(other.path)); destinations must not be equal or nested"
                )
            } else {
                destinations.append((destinationPath, destination))
            }
        }
    }

    private func overlaps(_ a: String, _ b: String) -> Bool {
        a == b || a.hasPrefix(b + "/") || b.hasPrefix(a + "/")
    }

    // MARK: - Subscriptions

    private func checkSubscriptions(_ group: GroupDefinition) {
        if group.subscriptions.count > GroupLimits.maximumSubscriptions {
            error(
                at: "subscriptions",
                "\(group.subscriptions.count) subscriptions; a group has at most \(GroupLimits.maximumSubscriptions) (V1's quota)"
            )
        }
        var ids: [String: String] = [:]
        var routes: [String: String] = [:]
        let devices = Set(group.devices.map(\.thingName))
        var functions: [String: GroupDefinition.Function] = [:]
        for function in group.functions where functions[function.name] == nil { functions[function.name] = function }
        for (index, subscription) in group.subscriptions.enumerated() {
            let path = "subscriptions[\(index)]"
            unique(subscription.id, at: path + ".id", in: &ids, what: "subscription id")
            let sourceOK = resolve(subscription.source, at: path + ".source", group, devices, functions)
            let targetOK = resolve(subscription.target, at: path + ".target", group, devices, functions)
            guard sourceOK && targetOK else { continue }
            checkPipelineEnds(subscription, at: path, group)
            if subscription.source == subscription.target {
                let message =
                    subscription.source == .cloud
                    ? "a subscription from cloud to cloud is not allowed; one end must be in the group"
                    : "the target is the source (\(subscription.source)); a subscription goes from one endpoint to another"
                error(at: path + ".target", message)
                continue
            }
            guard usable(path + ".subject", subscription.subject) else { continue }
            let route = "\(subscription.source) \(subscription.subject) \(subscription.target)"
            if let first = routes[route] {
                warning(at: path, "routes the same messages as \(lineReference(first)); one of them is enough")
            } else {
                routes[route] = path
            }
            if subscription.source == .shadow || subscription.target == .shadow,
                !MQTTTopic.filtersOverlap(subscription.subject, "$aws/things/+/shadow/#")
            {
                warning(
                    at: path + ".subject",
                    "\(quoted(subscription.subject)) is not a shadow topic; the shadow service only uses $aws/things/THING/shadow/…"
                )
            }
        }
    }

    /// Whether the endpoint names something in this group (and, for an ARN, the version it deploys).
    private func resolve(
        _ endpoint: Endpoint,
        at path: String,
        _ group: GroupDefinition,
        _ devices: Set<String>,
        _ functions: [String: GroupDefinition.Function]
    ) -> Bool {
        if failedPaths.contains(path) { return false }
        switch endpoint {
        case .cloud, .shadow:
            return true
        case .device(let name):
            if devices.contains(name) { return true }
            let message =
                name == group.core.thingName
                ? "\(quoted(name)) is the core's thing, not a device; the core is not a subscription endpoint"
                : "\(quoted(endpoint.description)) names no device of this group; devices: \(listing(group.devices.map(\.thingName)))"
            error(at: path, message)
            return false
        case .function(let name):
            guard let function = functions[name] else {
                error(
                    at: path,
                    "\(quoted(endpoint.description)) names no function of this group; functions: \(listing(group.functions.map(\.name)))"
                )
                return false
            }
            if let qualifier = qualifiers[path], qualifier != function.version {
                error(
                    at: path,
                    "the ARN names version \(quoted(qualifier)) of \(name), but the group deploys version \(quoted(function.version))"
                )
                return false
            }
            return true
        case .pipeline(let id):
            if group.pipelines.contains(where: { $0.id == id }) { return true }
            error(
                at: path,
                "\(quoted(endpoint.description)) names no pipeline of this group; pipelines: \(listing(group.pipelines.map(\.id)))"
            )
            return false
        }
    }

    // MARK: - Logging

    private func checkLogging(_ group: GroupDefinition) {
        var seen: [String: String] = [:]
        for (index, logger) in group.logging.enumerated() {
            let path = "logging[\(index)]"
            if failedPaths.contains(path + ".component") || failedPaths.contains(path + ".type") { continue }
            let key = "\(logger.component.rawValue)/\(logger.type.rawValue)"
            if let first = seen[key] {
                error(
                    at: path,
                    "a second \(logger.component.rawValue) logger of type \(logger.type.rawValue); \(lineReference(first)) already configures it"
                )
            } else {
                seen[key] = path
            }
            if logger.type == .awsCloudWatch { NotYetEffective.cloudWatch(self, at: path + ".type") }
        }
    }
}
