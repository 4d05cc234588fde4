public import Logging
public import MossBroker

/// The core configuration: what belongs to this gateway (ports, paths, certificates, identity for ARNs).
///
/// Every field has a default, so `moss run` works with no file at all. ``load(file:)`` reads a YAML file on
/// top of the defaults; the command line then overrides single fields. Call ``validate()`` before starting.
public struct CoreConfiguration: Sendable, Hashable {
    /// Where Moss keeps its database, admin socket, ports file and certificates.
    public var dataDirectory: String
    public var mqtt: MQTT
    /// AWS region used in ARNs (functions, resources).
    public var region: String
    /// 12-digit AWS account id used in ARNs.
    public var account: String
    /// Minimum level the daemon logs at.
    public var logLevel: Logger.Level
    /// The local Device Shadow service.
    public var shadows: Shadows
    /// User functions: the IPC port and the Python they run on.
    public var functions: Functions
    /// Machine learning resources: the service-role policy, unpack limits, AWS endpoints.
    public var resources: Resources
    /// AWS IoT Core: the MQTT connection, the spooler, the data plane for shadow sync. Off without an endpoint.
    public var cloud: Cloud

    public init(
        dataDirectory: String = "./moss-data",
        mqtt: MQTT = MQTT(),
        region: String = "us-east-1",
        account: String = "000000000000",
        logLevel: Logger.Level = .info,
        shadows: Shadows = Shadows(),
        functions: Functions = Functions(),
        resources: Resources = Resources(),
        cloud: Cloud = Cloud()
    ) {
        self.cloud = cloud
        self.functions = functions
        self.resources = resources
        self.dataDirectory = dataDirectory
        self.mqtt = mqtt
        self.region = region
        self.account = account
        self.logLevel = logLevel
        self.shadows = shadows
    }

    /// How functions run.
    public struct Functions: Sendable, Hashable {
        /// The Greengrass V1 IPC port on 127.0.0.1 (V1: 8000). 0, the default, picks a free port: functions find
        /// it in GG_DAEMON_PORT, so no fixed port is needed.
        public var ipcPort: Int
        /// The Python 3 every python3.x runtime maps to.
        public var python: String
        /// On-demand workers running at once, across all functions (V1's `maxConcurrentLimit`).
        public var maxConcurrentLimit: Int
        /// Invocations waiting for a worker, across all functions (V1's `maxWorkItemCount`); more are refused.
        public var maxWorkItemCount: Int

        /// Interpreters for particular runtime names (e.g. `python3.7: /usr/bin/python3.7`); the rest use `python`.
        public var pythonRuntimes: [String: String]
        /// When Moss runs as root: the user functions without their own runAs run as. Nil: ggc_user/ggc_group where
        /// they exist (a V1 gateway has them), else nobody/nogroup.
        public var defaultRunAs: RunAs?
        /// Whether a function may run as root (uid or gid 0), as V1's `runtime.allowFunctionsToRunAsRoot`.
        public var allowFunctionsToRunAsRoot: Bool

        public init(
            ipcPort: Int = 0,
            python: String = "/usr/bin/python3",
            pythonRuntimes: [String: String] = [:],
            maxConcurrentLimit: Int = 25,
            maxWorkItemCount: Int = 1024,
            defaultRunAs: RunAs? = nil,
            allowFunctionsToRunAsRoot: Bool = false
        ) {
            self.ipcPort = ipcPort
            self.python = python
            self.pythonRuntimes = pythonRuntimes
            self.maxConcurrentLimit = maxConcurrentLimit
            self.maxWorkItemCount = maxWorkItemCount
            self.defaultRunAs = defaultRunAs
            self.allowFunctionsToRunAsRoot = allowFunctionsToRunAsRoot
        }

        /// A numeric user and group, as V1's RunAs.
        public struct RunAs: Sendable, Hashable {
            public var uid: UInt32
            public var gid: UInt32

            public init(uid: UInt32, gid: UInt32) {
                self.uid = uid
                self.gid = gid
            }
        }
    }

    /// Limits of the local Device Shadow service; AWS's defaults, rate limits off.
    public struct Shadows: Sendable, Hashable {
        /// Desired plus reported, compact JSON, in bytes: 8192 (AWS's default) up to 30720 (Greengrass's maximum).
        public var maximumStateBytes: Int
        /// Requests per second per thing; nil for no limit (AWS: 20).
        public var requestsPerSecondPerThing: Double?
        /// Requests per second in total; nil for no limit (Greengrass: 200).
        public var requestsPerSecond: Double?

        public init(maximumStateBytes: Int = 8192, requestsPerSecondPerThing: Double? = nil, requestsPerSecond: Double? = nil) {
            self.maximumStateBytes = maximumStateBytes
            self.requestsPerSecondPerThing = requestsPerSecondPerThing
            self.requestsPerSecond = requestsPerSecond
        }
    }

    /// The local MQTT broker's listeners and limits.
    public struct MQTT: Sendable, Hashable {
        /// Address both listeners bind to; loopback by default, because exposing the broker is a decision.
        public var bind: String
        /// Plain MQTT port; 0 picks a free port.
        public var port: Int
        /// MQTT over mutual TLS; opened only when certificates are configured or found in `DATA_DIR/certs`.
        public var tlsPort: Int
        /// Explicit certificate files; when nil, those written by `moss certs init` are used if present.
        public var tls: TLSFiles?
        public var limits: BrokerLimits
        /// Subscriptions overlapping these filters are refused.
        public var deniedSubscriptionFilters: [String]
        /// How often retained messages and sessions are written behind to the database.
        public var persistenceInterval: Duration

        public init(
            bind: String = "127.0.0.1",
            port: Int = 1883,
            tlsPort: Int = 8883,
            tls: TLSFiles? = nil,
            limits: BrokerLimits = BrokerLimits(),
            deniedSubscriptionFilters: [String] = [],
            persistenceInterval: Duration = .seconds(1)
        ) {
            self.bind = bind
            self.port = port
            self.tlsPort = tlsPort
            self.tls = tls
            self.limits = limits
            self.deniedSubscriptionFilters = deniedSubscriptionFilters
            self.persistenceInterval = persistenceInterval
        }
    }

    /// PEM files for the TLS listener.
    public struct TLSFiles: Sendable, Hashable {
        /// The server certificate (and any intermediates).
        public var certificate: String
        /// The server's private key.
        public var privateKey: String
        /// The CA certificates that sign device (client) certificates.
        public var caCertificate: String
        /// Certificate SHA-256 fingerprints (lowercase hex) mapped to thing names.
        public var thingsByFingerprint: [String: String]

        public init(
            certificate: String,
            privateKey: String,
            caCertificate: String,
            thingsByFingerprint: [String: String] = [:]
        ) {
            self.certificate = certificate
            self.privateKey = privateKey
            self.caCertificate = caCertificate
            self.thingsByFingerprint = thingsByFingerprint
        }
    }
}
