/// How to reach AWS IoT Core's MQTT endpoint: the core's certificate and key over mutual TLS.
public struct CloudConnectionConfiguration: Sendable, Hashable {
    /// The account's ATS endpoint (`PREFIX-ats.iot.REGION.amazonaws.com`), or any MQTT broker with mutual TLS.
    public var host: String
    /// 8883, or 443 with ``alpn``.
    public var port: Int
    /// Sends ALPN `x-amzn-mqtt-ca`, which AWS IoT needs to speak MQTT on port 443.
    public var alpn: Bool
    /// The core's certificate (PEM), its private key, and the CA that signed the endpoint's certificate (nil: the
    /// system's trust roots).
    public var certificate: String
    public var privateKey: String
    public var caCertificate: String?
    /// MQTT keep-alive; a connection silent for one and a half times this is considered dead.
    public var keepAlive: Duration
    /// Reconnect backoff: from `minimumBackoff`, doubling to `maximumBackoff`, each with up to 50 % jitter.
    public var minimumBackoff: Duration
    public var maximumBackoff: Duration
    /// CONNECT must be answered within this.
    public var connectTimeout: Duration

    public init(
        host: String,
        port: Int = 8883,
        alpn: Bool = false,
        certificate: String,
        privateKey: String,
        caCertificate: String? = nil,
        keepAlive: Duration = .seconds(60),
        minimumBackoff: Duration = .milliseconds(500),
        maximumBackoff: Duration = .seconds(60),
        connectTimeout: Duration = .seconds(10)
    ) {
        self.host = host
        self.port = port
        self.alpn = alpn
        self.certificate = certificate
        self.privateKey = privateKey
        self.caCertificate = caCertificate
        self.keepAlive = keepAlive
        self.minimumBackoff = minimumBackoff
        self.maximumBackoff = maximumBackoff
        self.connectTimeout = connectTimeout
    }
}
