/// How a worker is started in a Greengrass container: its own mount namespace and root, in which the function's
/// code is at `/lambda`, each attached resource at its destination path, `/sys` only with accessSysfs, and a
/// private `/tmp`. `moss launch-function` reads it (as JSON) and sets all that up before it executes the worker,
/// because a multithreaded daemon cannot do so between fork and exec.
public struct ContainerSpec: Codable, Sendable, Hashable {
    public struct Mount: Codable, Sendable, Hashable {
        /// A path on the host.
        public var source: String
        /// Where the function sees it (absolute, inside the container).
        public var destination: String
        public var readOnly: Bool

        public init(source: String, destination: String, readOnly: Bool) {
            self.source = source
            self.destination = destination
            self.readOnly = readOnly
        }
    }

    /// An empty directory on the host where the container's root is assembled (a tmpfs is mounted on it).
    public var root: String
    public var mounts: [Mount]
    /// Whether the host's /sys is visible (V1's accessSysfs).
    public var accessSysfs: Bool
    public var workingDirectory: String
    public var command: [String]
    public var environment: [String: String]
    /// Run as this user, its group and supplementary groups (the daemon runs as root); nil keeps the daemon's.
    public var user: FunctionUser?
    /// False for NoContainer functions: no namespace or root of their own, only the memory limit.
    public var isolated: Bool = true
    /// The worker's memory limit, through the memory cgroup (never an address-space rlimit); nil for none.
    public var memoryLimitBytes: Int?
    /// The worker's own memory cgroup, created by the launcher (v1: under /sys/fs/cgroup/memory, v2: under
    /// /sys/fs/cgroup); the host reads it after the worker exits to tell a memory kill, then removes it.
    public var memoryCgroup: String?

    public init(
        root: String,
        mounts: [Mount],
        accessSysfs: Bool,
        workingDirectory: String,
        command: [String],
        environment: [String: String],
        user: FunctionUser? = nil
    ) {
        self.root = root
        self.mounts = mounts
        self.accessSysfs = accessSysfs
        self.workingDirectory = workingDirectory
        self.command = command
        self.environment = environment
        self.user = user
    }
}
