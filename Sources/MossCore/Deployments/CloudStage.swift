import MossDeploy

/// Puts the group's cloud parts into effect: subscriptions at the cloud for `cloud`-source routes, the shadows to
/// sync, and the core thing that names the connection. Nothing in it can fail, so preparing only keeps the group.
struct CloudStage: DeploymentStage {
    let link: CloudLink

    func prepare(_ group: GroupDefinition?) async throws -> any PreparedStage {
        Prepared(link: link, group: group)
    }

    private struct Prepared: PreparedStage {
        let link: CloudLink
        let group: GroupDefinition?

        func activate() { link.apply(group) }
        func discard() async {}
    }
}
