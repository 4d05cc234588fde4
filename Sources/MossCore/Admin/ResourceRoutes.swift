import Hummingbird
import MossResources

/// Resources on the admin API:
///
/// - `GET /v1/resources`: each resource's version in effect (source, version, sizes, sha256, last checked);
/// - `GET /v1/resources/progress`: the downloads under way, which `moss deploy` polls for its progress bar.
struct ResourceRoutes: AdminRoutes {
    let installer: ResourceInstaller
    let progress: ResourceProgress

    struct Listing: Codable, Sendable {
        var resources: [ResourceVersion]
    }

    struct Transfers: Codable, Sendable {
        var transfers: [ResourceTransfer]
    }

    func register(on v1: RouterGroup<BasicRequestContext>) {
        v1.get("resources") { _, _ in
            try AdminJSON.response(Listing(resources: installer.list()))
        }
        v1.get("resources/progress") { _, _ in
            try AdminJSON.response(Transfers(transfers: progress.snapshot()))
        }
    }
}
