import MossDeploy
import MossFunctions

/// Who a function runs as, by V1's rules: as root, Moss switches every function to its runAs user or to the
/// default user, and to root only when the core configuration allows it; not as root, it cannot switch at all.
struct FunctionUserPolicy: Sendable {
    /// Who Moss runs as.
    var daemon: FunctionUser
    var defaultRunAs: CoreConfiguration.Functions.RunAs?
    var allowRoot: Bool

    init(_ configuration: CoreConfiguration.Functions, daemon: FunctionUser = .current) {
        self.daemon = daemon
        self.defaultRunAs = configuration.defaultRunAs
        self.allowRoot = configuration.allowFunctionsToRunAsRoot
    }

    /// The user `function` runs as; nil when Moss is not root and the function runs as Moss's own user.
    func user(for function: GroupDefinition.Function) throws(DeploymentStageError) -> FunctionUser? {
        let asked = function.runAs.map { FunctionUser(uid: UInt32(clamping: $0.uid), gid: UInt32(clamping: $0.gid)) }
        guard daemon.uid == 0 else {
            if let asked, asked.uid != daemon.uid || asked.gid != daemon.gid {
                throw DeploymentStageError(
                    code: "FunctionRunAsUnavailable",
                    message: "Function \(function.name) has runAs \(asked), but Moss runs as \(daemon), not root, and cannot "
                        + "switch users: run Moss as root, or remove the function's runAs"
                )
            }
            return nil
        }
        let user: FunctionUser
        if let asked { user = asked } else { user = try defaultUser() }
        if (user.uid == 0 || user.gid == 0) && !allowRoot {
            let whose = asked == nil ? "the default user (functions.defaultRunAs)" : "its runAs"
            throw DeploymentStageError(
                code: "FunctionRunAsRootNotAllowed",
                message: "Function \(function.name) would run as root through \(whose) (\(user)), which the core "
                    + "configuration does not allow: give it a runAs user, or set functions.allowFunctionsToRunAsRoot: true "
                    + "(V1's runtime.allowFunctionsToRunAsRoot)"
            )
        }
        return user
    }

    /// The configured default, else V1's ggc_user/ggc_group where they exist, else nobody/nogroup.
    func defaultUser() throws(DeploymentStageError) -> FunctionUser {
        if let defaultRunAs { return FunctionUser(uid: defaultRunAs.uid, gid: defaultRunAs.gid) }
        if let user = FunctionUser.named(user: "ggc_user", group: "ggc_group") ?? FunctionUser.named(user: "nobody", group: "nogroup") {
            return user
        }
        throw DeploymentStageError(
            code: "FunctionRunAsUnavailable",
            message: "No default user for functions: this host has neither ggc_user/ggc_group nor nobody/nogroup; set "
                + "functions.defaultRunAs: {uid: N, gid: N} in the core configuration"
        )
    }
}
