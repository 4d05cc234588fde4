import MossResources
import Synchronization

/// What the resources stage prepared, for the stages after it: FunctionsStage asks it for the directory of a
/// resource's *prepared* version (the one the deployment will switch in) and for NoContainer prefixes; the
/// cleanup stage removes whatever this deployment no longer uses. One deployment prepares at a time (the
/// DeploymentManager is an actor), so "prepared" always means the deployment under way.
final class ResourceCatalog: Sendable {
    let installer: ResourceInstaller
    let prefixes: ResourcePrefixes

    private struct State {
        var prepared: [String: PreparedResource] = [:]
        var prefixes: Set<String> = []
    }

    private let state = Mutex(State())

    init(installer: ResourceInstaller) {
        self.installer = installer
        self.prefixes = ResourcePrefixes(resourcesRoot: installer.root)
    }

    /// Starts a deployment's preparation with the resources it prepared.
    func prepared(_ resources: [PreparedResource]) {
        state.withLock { state in
            state.prepared = Dictionary(resources.map { ($0.record.resourceId, $0) }) { _, last in last }
            state.prefixes = []
        }
    }

    /// The directory of resource `id`'s prepared version; nil for a resource that is not a prepared model.
    func preparedDirectory(of id: String) -> String? {
        state.withLock { $0.prepared[id]?.directory }
    }

    /// A NoContainer function's resource prefix with a link per (destination, resource id) pair.
    func prefix(
        forFunction function: String,
        links: [(destinationPath: String, resourceId: String)]
    ) throws(ResourceError) -> String {
        let resolved = links.compactMap { link in
            preparedDirectory(of: link.resourceId).map {
                ResourcePrefixes.Link(destinationPath: link.destinationPath, target: $0)
            }
        }
        let prefix = try prefixes.prefix(forFunction: function, links: resolved)
        state.withLock { _ = $0.prefixes.insert(prefix) }
        return prefix
    }

    /// After the switch: removes versions and prefixes the deployment in effect does not use.
    func removeUnused() {
        let (kept, prefixesKept) = state.withLock { state in
            (state.prepared.mapValues(\.record.version), state.prefixes)
        }
        installer.removeUnused(keeping: kept)
        prefixes.removeUnused(keeping: prefixesKept)
    }
}
