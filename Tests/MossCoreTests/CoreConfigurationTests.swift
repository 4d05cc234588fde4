import Foundation
import Logging
import MossBroker
import MossCore
import Testing

@Suite("CoreConfiguration")
struct CoreConfigurationTests {
    @Test func defaultsNeedNoFile() throws {
        let configuration = CoreConfiguration()
        #expect(configuration.dataDirectory == "./moss-data")
        #expect(configuration.mqtt.bind == "127.0.0.1")
        #expect(configuration.mqtt.port == 1883)
        #expect(configuration.mqtt.tlsPort == 8883)
        #expect(configuration.mqtt.tls == nil)
        #expect(configuration.region == "us-east-1")
        #expect(configuration.account == "000000000000")
        #expect(configuration.logLevel == .info)
        #expect(configuration.mqtt.limits == BrokerLimits())
        try configuration.validate()
    }

    @Test func emptyFileMeansDefaults() throws {
        #expect(try CoreConfiguration.parse(yaml: "", file: "/etc/moss.yaml") == CoreConfiguration())
        #expect(try CoreConfiguration.parse(yaml: "# nothing\n", file: "/etc/moss.yaml") == CoreConfiguration())
    }

    @Test func readsEveryKey() throws {
        let yaml = """
            dataDirectory: /var/lib/moss
            logLevel: debug
            region: eu-central-1
            account: "123456789012"
            mqtt:
              bind: 0.0.0.0
              port: 0
              tlsPort: 18883
              deniedSubscriptionFilters: ["$aws/#", "secret/+"]
              persistenceIntervalSeconds: 0.5
              tls:
                certificate: certs/server.pem
                privateKey: /keys/server.key
                caCertificate: certs/ca.pem
                thingsByFingerprint:
                  ab12: sensor-1
              limits:
                maximumConnections: 50
                maximumInflightMessages: 5
                maximumQueuedMessages: 100
                maximumPacketSize: 4096
                connectTimeoutSeconds: 2.5
                maximumKeepAlive: 600
                maximumSessionExpiry: 3600
                topicAliasMaximum: 0
                maximumRetainedMessages: 10
                queueQoS0WhileOffline: true
            """
        let configuration = try CoreConfiguration.parse(yaml: yaml, file: "/etc/moss/moss.yaml")
        #expect(configuration.dataDirectory == "/var/lib/moss")
        #expect(configuration.logLevel == .debug)
        #expect(configuration.region == "eu-central-1")
        #expect(configuration.account == "123456789012")
        #expect(configuration.mqtt.bind == "0.0.0.0")
        #expect(configuration.mqtt.port == 0)
        #expect(configuration.mqtt.tlsPort == 18883)
        #expect(configuration.mqtt.deniedSubscriptionFilters == ["$aws/#", "secret/+"])
        #expect(configuration.mqtt.persistenceInterval == .milliseconds(500))
        // Relative paths are relative to the file.
        #expect(
            configuration.mqtt.tls
                == .init(
                    certificate: "/etc/moss/certs/server.pem",
                    privateKey: "/keys/server.key",
                    caCertificate: "/etc/moss/certs/ca.pem",
                    thingsByFingerprint: ["ab12": "sensor-1"]
                )
        )
        #expect(
            configuration.mqtt.limits
                == BrokerLimits(
                    maximumConnections: 50,
                    maximumInflightMessages: 5,
                    maximumQueuedMessages: 100,
                    maximumPacketSize: 4096,
                    connectTimeout: .milliseconds(2500),
                    maximumKeepAlive: 600,
                    maximumSessionExpiry: 3600,
                    topicAliasMaximum: 0,
                    maximumRetainedMessages: 10,
                    queueQoS0WhileOffline: true
                )
        )
    }

    @Test func functionUsersAndInterpreters() throws {
        let yaml = """
            functions:
              defaultRunAs: {uid: 1000, gid: 1001}
              allowFunctionsToRunAsRoot: true
              pythonRuntimes: {python3.7: /opt/python3.7/bin/python3}
            """
        let functions = try CoreConfiguration.parse(yaml: yaml, file: "/etc/moss.yaml").functions
        #expect(functions.defaultRunAs == .init(uid: 1000, gid: 1001))
        #expect(functions.allowFunctionsToRunAsRoot)
        #expect(functions.pythonRuntimes == ["python3.7": "/opt/python3.7/bin/python3"])
    }

    @Test func theSampleConfigurationIsTheDefaults() throws {
        // docs/moss.yaml documents every key with its default; keep it honest.
        let sample = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/moss.yaml").path
        var expected = CoreConfiguration()
        expected.dataDirectory =
            URL(fileURLWithPath: sample).deletingLastPathComponent().appendingPathComponent("moss-data").path
        #expect(try CoreConfiguration.load(file: sample) == expected)
    }

    struct BadInput: Sendable, CustomStringConvertible {
        let yaml: String
        let key: String?
        let line: Int?
        let fragment: String
        var description: String { yaml }
    }

    static let badInputs: [BadInput] = [
        .init(yaml: "functions:\n  defaultRunAs: {uid: 1000}\n", key: "functions.defaultRunAs", line: 2, fragment: "both uid and gid"),
        .init(yaml: "functions:\n  defaultRunAs: {uid: -1, gid: 1}\n", key: "functions.defaultRunAs.uid", line: 2, fragment: "0...4294967294"),
        .init(
            yaml: "functions:\n  pythonRuntimes: {java8: /usr/bin/java}\n",
            key: "functions.pythonRuntimes.java8",
            line: 2,
            fragment: "Python runtime name"
        ),
        .init(
            yaml: "functions:\n  pythonRuntimes: {python3.7: python3.7}\n",
            key: "functions.pythonRuntimes.python3.7",
            line: 2,
            fragment: "absolute path"
        ),
        .init(yaml: "functions:\n  allowFunctionsToRunAsRoot: yes please\n", key: "functions.allowFunctionsToRunAsRoot", line: 2, fragment: "true or false"),
        .init(yaml: "mqtt:\n  prot: 1883\n", key: "mqtt.prot", line: 2, fragment: "allowed here: bind, port, tlsPort"),
        .init(yaml: "dataDir: /x\n", key: "dataDir", line: 1, fragment: "allowed here: dataDirectory"),
        .init(
            yaml: "mqtt:\n  port: http\n",
            key: "mqtt.port",
            line: 2,
            fragment: "expected an integer in 0...65535, got \"http\""
        ),
        .init(yaml: "mqtt:\n  port: 70000\n", key: "mqtt.port", line: 2, fragment: "0...65535"),
        .init(yaml: "mqtt:\n  port:\n", key: "mqtt.port", line: 2, fragment: "got nothing"),
        .init(yaml: "mqtt: 1883\n", key: "mqtt", line: 1, fragment: "expected a mapping"),
        .init(yaml: "logLevel: loud\n", key: "logLevel", line: 1, fragment: "expected one of trace, debug, info"),
        .init(yaml: "account: \"12345\"\n", key: "account", line: nil, fragment: "12-digit"),
        .init(yaml: "region: Europe\n", key: "region", line: nil, fragment: "AWS region name"),
        .init(
            yaml: "mqtt:\n  limits:\n    maximumPacketSize: 1\n",
            key: "mqtt.limits.maximumPacketSize",
            line: 3,
            fragment: "64...268435455"
        ),
        .init(
            yaml: "mqtt:\n  limits:\n    queueQoS0WhileOffline: maybe\n",
            key: "mqtt.limits.queueQoS0WhileOffline",
            line: 3,
            fragment: "true or false"
        ),
        .init(
            yaml: "mqtt:\n  limits:\n    connectTimeout: 5\n",
            key: "mqtt.limits.connectTimeout",
            line: 3,
            fragment: "connectTimeoutSeconds"
        ),
        .init(
            yaml: "mqtt:\n  deniedSubscriptionFilters: \"#\"\n",
            key: "mqtt.deniedSubscriptionFilters",
            line: 2,
            fragment: "list of strings"
        ),
        .init(
            yaml: "mqtt:\n  deniedSubscriptionFilters: [\"a/#/b\"]\n",
            key: "mqtt.deniedSubscriptionFilters[0]",
            line: nil,
            fragment: "not a valid MQTT topic filter"
        ),
        .init(
            yaml: "mqtt:\n  tls:\n    certificate: a.pem\n",
            key: "mqtt.tls",
            line: 3,
            fragment: "missing privateKey, caCertificate"
        ),
        .init(yaml: "mqtt:\n  port: 1\n  port: 2\n", key: nil, line: nil, fragment: "duplicated key(s): 'port'"),
        .init(
            yaml: "mqtt:\n  port: 2000\n  tlsPort: 2000\n",
            key: "mqtt.tlsPort",
            line: nil,
            fragment: "must differ from mqtt.port"
        ),
        .init(yaml: "mqtt: [\n", key: nil, line: nil, fragment: "not valid YAML"),
        .init(
            yaml: "shadows:\n  maximumStateBytes: 40000\n",
            key: "shadows.maximumStateBytes",
            line: 2,
            fragment: "1...30720"
        ),
        .init(
            yaml: "shadows:\n  requestsPerSecond: -3\n",
            key: "shadows.requestsPerSecond",
            line: 2,
            fragment: "or ~ for no limit"
        ),
        .init(yaml: "shadows:\n  rate: 1\n", key: "shadows.rate", line: 2, fragment: "maximumStateBytes"),
        .init(
            yaml: "cloud:\n  endpoint: x-ats.iot.eu-west-1.amazonaws.com\n",
            key: "cloud.certificate",
            line: nil,
            fragment: "the core's certificate"
        ),
        .init(
            yaml: "cloud:\n  endpoint: x-ats.iot.eu-west-1.amazonaws.com\n  certificate: c.pem\n",
            key: "cloud.privateKey",
            line: nil,
            fragment: "private key"
        ),
        .init(
            yaml: "cloud:\n  endpoint: mqtts://x.amazonaws.com:8883\n  certificate: c.pem\n  privateKey: k.pem\n",
            key: "cloud.endpoint",
            line: nil,
            fragment: "no scheme or port"
        ),
        .init(
            yaml: "cloud:\n  spooler:\n    maximumBytes: 1000\n",
            key: "cloud.spooler.maximumBytes",
            line: 3,
            fragment: "262144"
        ),
        .init(
            yaml: "cloud:\n  spooler:\n    storage: Disk\n",
            key: "cloud.spooler.storage",
            line: 3,
            fragment: "expected FileSystem or Memory, got \"Disk\""
        ),
        .init(
            yaml: "cloud:\n  dataPlane:\n    authentication: iam\n",
            key: "cloud.dataPlane.authentication",
            line: 3,
            fragment: "expected mutualTLS or sigv4"
        ),
        .init(yaml: "cloud:\n  endpont: x\n", key: "cloud.endpont", line: 2, fragment: "allowed here: endpoint, port"),
    ]

    @Test func readsTheCloudSection() throws {
        let yaml = """
            cloud:
              endpoint: abc-ats.iot.eu-west-1.amazonaws.com
              port: 443
              alpn: true
              certificate: certs/core.pem
              privateKey: certs/core.key
              spooler: {storage: Memory, maximumBytes: 262144}
              dataPlane: {authentication: sigv4, profile: gateway}
            """
        let cloud = try CoreConfiguration.parse(yaml: yaml, file: "/etc/moss/moss.yaml").cloud
        #expect(cloud.endpoint == "abc-ats.iot.eu-west-1.amazonaws.com" && cloud.port == 443 && cloud.alpn)
        #expect(cloud.certificate == "/etc/moss/certs/core.pem" && cloud.privateKey == "/etc/moss/certs/core.key")
        #expect(cloud.spooler == .init(storage: .memory, maximumBytes: 262_144))
        #expect(cloud.dataPlane == .init(endpoint: nil, authentication: .sigv4, profile: "gateway"))
    }

    @Test func readsTheShadowSection() throws {
        let yaml = "shadows:\n  maximumStateBytes: 30720\n  requestsPerSecondPerThing: 20\n  requestsPerSecond: ~\n"
        let configuration = try CoreConfiguration.parse(yaml: yaml, file: "/etc/moss.yaml")
        #expect(configuration.shadows == .init(maximumStateBytes: 30720, requestsPerSecondPerThing: 20, requestsPerSecond: nil))
    }

    @Test("bad input is refused with the file, the key and what is allowed", arguments: badInputs)
    func badInputIsRefused(_ input: BadInput) throws {
        let error = #expect(throws: ConfigurationError.self) {
            try CoreConfiguration.parse(yaml: input.yaml, file: "/etc/moss.yaml")
        }
        #expect(error?.file == "/etc/moss.yaml")
        #expect(error?.key == input.key)
        if let line = input.line {
            #expect(error?.line == line)
        }
        #expect(error?.description.contains(input.fragment) == true, "\(error?.description ?? "no error")")
        #expect(error?.description.hasPrefix("/etc/moss.yaml") == true)
    }

    @Test func aMissingFileIsNamed() {
        let error = #expect(throws: ConfigurationError.self) {
            try CoreConfiguration.load(file: "/nonexistent/moss.yaml")
        }
        #expect(error?.description.hasPrefix("/nonexistent/moss.yaml: cannot read") == true)
    }

    @Test func validationCatchesValuesSetInCode() {
        var configuration = CoreConfiguration()
        configuration.mqtt.port = 70_000
        #expect(
            throws: ConfigurationError(
                key: "mqtt.port",
                message: "expected a port in 0...65535 (0 picks a free port), got 70000"
            )
        ) {
            try configuration.validate()
        }
        configuration = CoreConfiguration()
        configuration.mqtt.port = 0
        configuration.mqtt.tlsPort = 0  // two free ports: allowed
        #expect(throws: Never.self) { try configuration.validate() }
    }
}
