/// Environment variables Moss sets for every function (the V1 core's, greengrass-v1.md §3.2).
enum ReservedEnvironment {
    /// The IPC plumbing the Greengrass SDK and runtime depend on: a different value breaks the function.
    static let plumbing: Set<String> = [
        "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "MY_FUNCTION_ARN",
        "SHADOW_FUNCTION_ARN", "ROUTER_FUNCTION_ARN", "SECRETS_MANAGER_FUNCTION_ARN", "GG_DAEMON_PORT",
        "GGC_MAX_INTERFACE_VERSION", "ENCODING_TYPE", "AWS_GG_RESOURCE_PREFIX",
    ]
    /// Informational values V1 set; overriding them works but hides what the core knows.
    static let informational: Set<String> = [
        "AWS_IOT_THING_NAME", "AWS_IOT_THING_ARN", "AWS_GREENGRASS_GROUP_NAME", "AWS_REGION", "AWS_DEFAULT_REGION",
        "LOG_LEVEL",
    ]

    static func refused(_ name: String) -> String? {
        if plumbing.contains(name) || name.hasPrefix("_GG_LOG_FD_") {
            return "\(name) is set by Moss for the Greengrass SDK's IPC and cannot be overridden"
        }
        return nil
    }

    static func overridden(_ name: String) -> String? {
        informational.contains(name) ? "\(name) overrides the value Moss sets for every function" : nil
    }
}
