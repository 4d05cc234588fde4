extension CoreConfiguration {
    /// The connection to AWS IoT Core (docs/cloud.md). With no `endpoint` the cloud is off: routes to `cloud` count as
    /// undeliverable and no shadow syncs.
    public struct Cloud: Sendable, Hashable {
        /// The account's ATS endpoint (`aws iot describe-endpoint --endpoint-type iot:Data-ATS`); nil: no cloud.
        public var endpoint: String?
        /// MQTT over mutual TLS: 8883, or 443 with `alpn`.
        public var port: Int
        /// Send ALPN `x-amzn-mqtt-ca` (AWS IoT needs it for MQTT on 443).
        public var alpn: Bool
        /// The MQTT client id; nil: the deployed group's core thing name.
        public var clientID: String?
        /// The core's certificate and key (PEM), and the CA of the endpoint's certificate (nil: the system's roots).
        public var certificate: String?
        public var privateKey: String?
        public var caCertificate: String?
        public var keepAlive: Duration
        /// Reconnects back off from half a second, doubling up to this, with jitter.
        public var maximumReconnectDelay: Duration
        /// Unacknowledged messages towards the cloud at once (AWS IoT allows 100 per connection).
        public var maximumInflightMessages: Int
        public var spooler: Spooler
        /// The IoT data plane (HTTPS) the shadow sync calls.
        public var dataPlane: DataPlane

        public init(
            endpoint: String? = nil,
            port: Int = 8883,
            alpn: Bool = false,
            clientID: String? = nil,
            certificate: String? = nil,
            privateKey: String? = nil,
            caCertificate: String? = nil,
            keepAlive: Duration = .seconds(60),
            maximumReconnectDelay: Duration = .seconds(60),
            maximumInflightMessages: Int = 20,
            spooler: Spooler = Spooler(),
            dataPlane: DataPlane = DataPlane()
        ) {
            self.endpoint = endpoint
            self.port = port
            self.alpn = alpn
            self.clientID = clientID
            self.certificate = certificate
            self.privateKey = privateKey
            self.caCertificate = caCertificate
            self.keepAlive = keepAlive
            self.maximumReconnectDelay = maximumReconnectDelay
            self.maximumInflightMessages = maximumInflightMessages
            self.spooler = spooler
            self.dataPlane = dataPlane
        }

        /// V1's GGCloudSpooler settings.
        public struct Spooler: Sendable, Hashable {
            public enum Storage: String, Sendable, Hashable, CaseIterable {
                /// In the database: spooled messages survive a restart.
                case fileSystem = "FileSystem"
                case memory = "Memory"
            }

            public var storage: Storage
            /// V1's default 2.5 MB; at least 262144 (V1's minimum).
            public var maximumBytes: Int

            public init(storage: Storage = .fileSystem, maximumBytes: Int = 2_621_440) {
                self.storage = storage
                self.maximumBytes = maximumBytes
            }
        }

        /// Where shadow sync's UpdateThingShadow / GetThingShadow / DeleteThingShadow go, and how they authenticate.
        public struct DataPlane: Sendable, Hashable {
            public enum Authentication: String, Sendable, Hashable, CaseIterable {
                /// The core's certificate and key, as the MQTT connection (Greengrass V2's way; port 8443).
                case mutualTLS
                /// SigV4 with the AWS credentials chain (environment, then the shared files' profile).
                case sigv4
            }

            /// `https://HOST[:PORT]` or `http://…` for a stand-in; nil: `https://ENDPOINT:8443` with mutual TLS,
            /// `https://ENDPOINT` with SigV4.
            public var endpoint: String?
            public var authentication: Authentication
            /// The AWS profile for SigV4 credentials; nil: the usual chain (environment, then the default profile).
            public var profile: String?

            public init(endpoint: String? = nil, authentication: Authentication = .mutualTLS, profile: String? = nil) {
                self.endpoint = endpoint
                self.authentication = authentication
                self.profile = profile
            }
        }
    }
}
