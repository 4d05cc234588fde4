/// A validated group: what V1 deployed as one immutable group version (core, devices, functions,
/// subscriptions, resources, logging), with every default filled in and every path absolute.
///
/// The Codable form uses the group file's own keys, so ``canonicalJSON()`` is itself a valid group file.
public struct GroupDefinition: Sendable, Hashable, Codable {
    public var core: Core
    public var devices: [Device]
    public var functions: [Function]
    public var subscriptions: [Subscription]
    public var resources: [Resource]
    /// V1's logger definition. With no `logging` section, both components log to the file system at INFO, 128 KB.
    public var logging: [LoggingConfiguration]
    /// V1's `DefaultConfig.Execution`: the isolation mode and user of functions that do not set their own.
    public var defaultExecution: Execution?
    /// Declarative inference steps (a Moss addition).
    public var pipelines: [Pipeline]

    public init(
        core: Core,
        devices: [Device] = [],
        functions: [Function] = [],
        subscriptions: [Subscription] = [],
        resources: [Resource] = [],
        logging: [LoggingConfiguration] = LoggingConfiguration.defaults,
        defaultExecution: Execution? = nil,
        pipelines: [Pipeline] = []
    ) {
        self.core = core
        self.devices = devices
        self.functions = functions
        self.subscriptions = subscriptions
        self.resources = resources
        self.logging = logging
        self.defaultExecution = defaultExecution
        self.pipelines = pipelines
    }

    private enum CodingKeys: String, CodingKey {
        case core, devices, functions, subscriptions, resources, logging, defaultConfig, pipelines
    }

    private struct DefaultConfig: Codable {
        var execution: Execution
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        core = try container.decode(Core.self, forKey: .core)
        devices = try container.decodeIfPresent([Device].self, forKey: .devices) ?? []
        functions = try container.decodeIfPresent([Function].self, forKey: .functions) ?? []
        subscriptions = try container.decodeIfPresent([Subscription].self, forKey: .subscriptions) ?? []
        resources = try container.decodeIfPresent([Resource].self, forKey: .resources) ?? []
        logging =
            try container.decodeIfPresent([LoggingConfiguration].self, forKey: .logging)
            ?? LoggingConfiguration.defaults
        defaultExecution = try container.decodeIfPresent(DefaultConfig.self, forKey: .defaultConfig)?.execution
        pipelines = try container.decodeIfPresent([Pipeline].self, forKey: .pipelines) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(core, forKey: .core)
        try container.encode(devices, forKey: .devices)
        try container.encode(functions, forKey: .functions)
        try container.encode(subscriptions, forKey: .subscriptions)
        try container.encode(resources, forKey: .resources)
        try container.encode(logging, forKey: .logging)
        try container.encodeIfPresent(defaultExecution.map(DefaultConfig.init), forKey: .defaultConfig)
        // Absent when empty, so a group without pipelines keeps the digest it had before they existed.
        if !pipelines.isEmpty { try container.encode(pipelines, forKey: .pipelines) }
    }
}

extension GroupDefinition {
    /// The gateway itself (V1's core definition): exactly one per group.
    public struct Core: Sendable, Hashable, Codable {
        public var thingName: String
        /// Sync the classic shadow of the core's thing with the cloud.
        public var syncShadow: Bool
        /// Named shadows of the core's thing to sync (a Moss addition: V1 had classic shadows only).
        public var namedShadows: [String]
        public var syncDirection: SyncDirection

        public init(
            thingName: String,
            syncShadow: Bool = false,
            namedShadows: [String] = [],
            syncDirection: SyncDirection = .both
        ) {
            self.thingName = thingName
            self.syncShadow = syncShadow
            self.namedShadows = namedShadows
            self.syncDirection = syncDirection
        }
    }

    /// A client device allowed to connect to the gateway's broker (V1's device definition).
    public struct Device: Sendable, Hashable, Codable {
        public var thingName: String
        /// How the device proves it is this thing on the TLS listener; nil for a device on the plain listener only.
        public var certificate: Certificate?
        public var syncShadow: Bool
        public var namedShadows: [String]
        public var syncDirection: SyncDirection

        public init(
            thingName: String,
            certificate: Certificate? = nil,
            syncShadow: Bool = false,
            namedShadows: [String] = [],
            syncDirection: SyncDirection = .both
        ) {
            self.thingName = thingName
            self.certificate = certificate
            self.syncShadow = syncShadow
            self.namedShadows = namedShadows
            self.syncDirection = syncDirection
        }
    }

    /// A device certificate: a PEM file (absolute path) or the SHA-256 fingerprint of its DER bytes.
    public enum Certificate: Sendable, Hashable, Codable, CustomStringConvertible {
        case file(String)
        /// 64 lowercase hex digits, as `moss certs` prints them.
        case fingerprint(String)

        /// `sha256:<hex>` or the path, as in the group file.
        public var description: String {
            switch self {
            case .file(let path): path
            case .fingerprint(let hex): "sha256:" + hex
            }
        }

        public init(from decoder: any Decoder) throws {
            let text = try decoder.singleValueContainer().decode(String.self)
            self = text.hasPrefix("sha256:") ? .fingerprint(String(text.dropFirst(7))) : .file(text)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(description)
        }
    }

    /// Which way shadow sync goes (V2's ShadowManager directions; V1 always synced both ways).
    public enum SyncDirection: String, Sendable, Hashable, Codable, CaseIterable {
        case both
        case deviceToCloud
        case cloudToDevice
    }

    /// V1's `Execution`: how and as whom a function runs.
    public struct Execution: Sendable, Hashable, Codable {
        public var isolationMode: IsolationMode?
        public var runAs: RunAs?

        public init(isolationMode: IsolationMode? = nil, runAs: RunAs? = nil) {
            self.isolationMode = isolationMode
            self.runAs = runAs
        }
    }

    public enum IsolationMode: String, Sendable, Hashable, Codable, CaseIterable {
        case greengrassContainer = "GreengrassContainer"
        case noContainer = "NoContainer"
    }

    /// V1's `RunAs`: the user and group a function's process runs as.
    public struct RunAs: Sendable, Hashable, Codable {
        public var uid: Int
        public var gid: Int

        public init(uid: Int, gid: Int) {
            self.uid = uid
            self.gid = gid
        }
    }
}
