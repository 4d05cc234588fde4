import Foundation
import Logging
import MossBroker
import MossResources
import Yams

extension CoreConfiguration {
    /// Reads a YAML core configuration on top of the defaults and validates it.
    ///
    /// Unknown keys and bad values are errors that name the file, the line, the key and what is allowed:
    /// a typo must not silently fall back to a default. Relative paths in the file are relative to the file.
    public static func load(file: String) throws(ConfigurationError) -> CoreConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw ConfigurationError(file: file, message: "cannot read the file (\(error.localizedDescription))")
        }
        return try parse(yaml: text, file: file)
    }

    /// Parses YAML text; `file` names it in errors and anchors relative paths.
    public static func parse(yaml: String, file: String) throws(ConfigurationError) -> CoreConfiguration {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigurationError(file: file, message: "not valid YAML: \(error)")
        }
        var configuration = CoreConfiguration()
        guard let root else { return configuration }  // an empty file means all defaults
        let reader = YAMLConfigurationReader(file: file)
        try reader.read(root, into: &configuration)
        do {
            try configuration.validate()
        } catch var error {
            error.file = file
            throw error
        }
        return configuration
    }
}

/// Walks the YAML tree by hand (not Codable) so that every error can name its key, line and allowed values.
/// (Duplicate keys are already refused by Yams's parser.)
private struct YAMLConfigurationReader {
    let file: String

    private var baseDirectory: URL { URL(fileURLWithPath: file).deletingLastPathComponent() }

    func read(_ root: Node, into configuration: inout CoreConfiguration) throws(ConfigurationError) {
        try forEachKey(in: root, at: nil, allowed: [
            "dataDirectory", "logLevel", "region", "account", "mqtt", "shadows", "functions", "resources", "cloud",
        ]) {
            key,
            value,
            path throws(ConfigurationError) in
            switch key {
            case "dataDirectory": configuration.dataDirectory = try self.path(value, path)
            case "logLevel": configuration.logLevel = try logLevel(value, path)
            case "region": configuration.region = try string(value, path)
            case "account": configuration.account = try string(value, path)
            case "shadows": try readShadows(value, at: path, into: &configuration.shadows)
            case "functions": try readFunctions(value, at: path, into: &configuration.functions)
            case "resources": try readResources(value, at: path, into: &configuration.resources)
            case "cloud": try readCloud(value, at: path, into: &configuration.cloud)
            default: try readMQTT(value, at: path, into: &configuration.mqtt)
            }
        }
    }

    private func readShadows(
        _ node: Node,
        at prefix: String,
        into shadows: inout CoreConfiguration.Shadows
    ) throws(ConfigurationError) {
        let allowed = ["maximumStateBytes", "requestsPerSecondPerThing", "requestsPerSecond"]
        try forEachKey(in: node, at: prefix, allowed: allowed) { key, value, path throws(ConfigurationError) in
            switch key {
            case "maximumStateBytes": shadows.maximumStateBytes = try integer(value, path, in: 1...30_720)
            case "requestsPerSecondPerThing": shadows.requestsPerSecondPerThing = try rate(value, path)
            default: shadows.requestsPerSecond = try rate(value, path)
            }
        }
    }

    private func readFunctions(
        _ node: Node,
        at prefix: String,
        into functions: inout CoreConfiguration.Functions
    ) throws(ConfigurationError) {
        let allowed = [
            "ipcPort", "python", "pythonRuntimes", "maxConcurrentLimit", "maxWorkItemCount", "defaultRunAs",
            "allowFunctionsToRunAsRoot",
        ]
        try forEachKey(in: node, at: prefix, allowed: allowed) { key, value, path throws(ConfigurationError) in
            switch key {
            case "ipcPort": functions.ipcPort = try integer(value, path, in: 0...65_535)
            case "maxConcurrentLimit": functions.maxConcurrentLimit = try integer(value, path, in: 1...10_000)
            case "maxWorkItemCount": functions.maxWorkItemCount = try integer(value, path, in: 1...1_000_000)
            case "pythonRuntimes": functions.pythonRuntimes = try pythonRuntimes(value, at: path)
            case "defaultRunAs": functions.defaultRunAs = try runAs(value, at: path)
            case "allowFunctionsToRunAsRoot": functions.allowFunctionsToRunAsRoot = try boolean(value, path)
            default: functions.python = try string(value, path)
            }
        }
    }

    /// `{python3.7: /usr/bin/python3.7, ...}`: only Python runtime names, each to an absolute path.
    private func pythonRuntimes(_ node: Node, at prefix: String) throws(ConfigurationError) -> [String: String] {
        guard case .mapping(let mapping) = node else {
            throw error(node, prefix, "expected a mapping from runtime names (python3.7 ... python3.13) to interpreters, got \(describe(node))")
        }
        var runtimes: [String: String] = [:]
        for (key, value) in mapping {
            let name = key.string ?? ""
            let path = prefix + "." + name
            guard name.range(of: #"^python3\.[0-9]+$"#, options: .regularExpression) != nil else {
                throw error(key, path, "expected a Python runtime name such as python3.7, got \(describe(key))")
            }
            let interpreter = try string(value, path)
            guard interpreter.hasPrefix("/") else { throw error(value, path, "expected an absolute path, got \(interpreter)") }
            runtimes[name] = interpreter
        }
        return runtimes
    }

    /// `{uid: N, gid: N}`, or `~` for Moss's default user.
    private func runAs(_ node: Node, at prefix: String) throws(ConfigurationError) -> CoreConfiguration.Functions.RunAs? {
        if case .scalar = node, node.null != nil { return nil }
        var uid: Int?
        var gid: Int?
        try forEachKey(in: node, at: prefix, allowed: ["uid", "gid"]) { key, value, path throws(ConfigurationError) in
            let number = try integer(value, path, in: 0...4_294_967_294)
            if key == "uid" { uid = number } else { gid = number }
        }
        guard let uid, let gid else { throw error(node, prefix, "expected both uid and gid, got \(describe(node))") }
        return .init(uid: UInt32(uid), gid: UInt32(gid))
    }

    private func readResources(
        _ node: Node,
        at prefix: String,
        into resources: inout CoreConfiguration.Resources
    ) throws(ConfigurationError) {
        let allowed = [
            "policy", "maximumUnpackedBytes", "maximumEntries", "s3Endpoint", "sageMakerEndpoint", "profile", "trustedCertificates",
        ]
        try forEachKey(in: node, at: prefix, allowed: allowed) { key, value, path throws(ConfigurationError) in
            switch key {
            case "policy":
                try forEachKey(in: value, at: path, allowed: ["statements"]) { _, list, path throws(ConfigurationError) in
                    guard case .sequence(let sequence) = list else {
                        throw error(list, path, "expected a list of statements, got \(describe(list))")
                    }
                    resources.policyStatements = []
                    for (index, element) in sequence.enumerated() {
                        resources.policyStatements.append(try statement(element, "\(path)[\(index)]"))
                    }
                }
            case "maximumUnpackedBytes":
                resources.maximumUnpackedBytes = Int64(try integer(value, path, in: 1...(1 << 50)))
            case "maximumEntries": resources.maximumEntries = try integer(value, path, in: 1...100_000_000)
            case "s3Endpoint": resources.s3Endpoint = try optionalString(value, path)
            case "sageMakerEndpoint": resources.sageMakerEndpoint = try optionalString(value, path)
            case "trustedCertificates":
                resources.trustedCertificates = try optional(value) { node throws(ConfigurationError) in try self.path(node, path) }
            default: resources.profile = try optionalString(value, path)
            }
        }
    }

    private func readCloud(_ node: Node, at prefix: String, into cloud: inout CoreConfiguration.Cloud) throws(ConfigurationError) {
        let allowed = [
            "endpoint", "port", "alpn", "clientId", "certificate", "privateKey", "caCertificate", "keepAliveSeconds",
            "maximumReconnectDelaySeconds", "maximumInflightMessages", "spooler", "dataPlane",
        ]
        try forEachKey(in: node, at: prefix, allowed: allowed) { key, value, path throws(ConfigurationError) in
            switch key {
            case "endpoint": cloud.endpoint = try optional(value) { node throws(ConfigurationError) in try string(node, path) }
            case "port": cloud.port = try integer(value, path, in: 1...65_535)
            case "alpn": cloud.alpn = try boolean(value, path)
            case "clientId": cloud.clientID = try optional(value) { node throws(ConfigurationError) in try string(node, path) }
            case "certificate": cloud.certificate = try optional(value) { node throws(ConfigurationError) in try self.path(node, path) }
            case "privateKey": cloud.privateKey = try optional(value) { node throws(ConfigurationError) in try self.path(node, path) }
            case "caCertificate":
                cloud.caCertificate = try optional(value) { node throws(ConfigurationError) in try self.path(node, path) }
            case "keepAliveSeconds": cloud.keepAlive = .seconds(try integer(value, path, in: 5...1200))
            case "maximumReconnectDelaySeconds": cloud.maximumReconnectDelay = try seconds(value, path, in: 1...3600)
            case "maximumInflightMessages": cloud.maximumInflightMessages = try integer(value, path, in: 1...100)
            case "spooler":
                let allowed = ["storage", "maximumBytes"]
                try forEachKey(in: value, at: path, allowed: allowed) { key, value, path throws(ConfigurationError) in
                    switch key {
                    case "storage":
                        let names = CoreConfiguration.Cloud.Spooler.Storage.allCases.map(\.rawValue)
                        guard case .scalar(let scalar) = value,
                            let storage = CoreConfiguration.Cloud.Spooler.Storage(rawValue: scalar.string)
                        else {
                            throw error(value, path, "expected \(names.joined(separator: " or ")), got \(describe(value))")
                        }
                        cloud.spooler.storage = storage
                    default:
                        cloud.spooler.maximumBytes = try integer(value, path, in: 262_144...1_073_741_824)
                    }
                }
            default:
                let allowed = ["endpoint", "authentication", "profile"]
                try forEachKey(in: value, at: path, allowed: allowed) { key, value, path throws(ConfigurationError) in
                    switch key {
                    case "authentication":
                        let names = CoreConfiguration.Cloud.DataPlane.Authentication.allCases.map(\.rawValue)
                        guard case .scalar(let scalar) = value,
                            let authentication = CoreConfiguration.Cloud.DataPlane.Authentication(rawValue: scalar.string)
                        else {
                            throw error(value, path, "expected \(names.joined(separator: " or ")), got \(describe(value))")
                        }
                        cloud.dataPlane.authentication = authentication
                    case "endpoint":
                        cloud.dataPlane.endpoint = try optional(value) { node throws(ConfigurationError) in try string(node, path) }
                    default:
                        cloud.dataPlane.profile = try optional(value) { node throws(ConfigurationError) in try string(node, path) }
                    }
                }
            }
        }
    }

    /// An IAM-style statement: `effect: Allow`, `action` and `resource` (a string or a list), an optional `sid`.
    private func statement(_ node: Node, _ path: String) throws(ConfigurationError) -> ResourcePolicy.Statement {
        var statement = ResourcePolicy.Statement(actions: [], resources: [])
        try forEachKey(in: node, at: path, allowed: ["sid", "effect", "action", "resource"]) {
            key,
            value,
            path throws(ConfigurationError) in
            switch key {
            case "sid": statement.sid = try string(value, path)
            case "effect":
                guard try string(value, path) == "Allow" else {
                    throw error(value, path, "only Allow statements exist here (what none allows is refused), got \(describe(value))")
                }
            case "action": statement.actions = try stringOrList(value, path)
            default: statement.resources = try stringOrList(value, path)
            }
        }
        guard !statement.actions.isEmpty, !statement.resources.isEmpty else {
            throw error(node, path, "a statement needs an action and a resource (e.g. action: s3:GetObject, resource: arn:aws:s3:::BUCKET/*)")
        }
        return statement
    }

    private func stringOrList(_ node: Node, _ path: String) throws(ConfigurationError) -> [String] {
        if case .scalar = node { return [try string(node, path)] }
        return try stringList(node, path)
    }

    private func optionalString(_ node: Node, _ path: String) throws(ConfigurationError) -> String? {
        if case .scalar = node, node.null != nil { return nil }
        return try string(node, path)
    }

    /// `~` (nothing) or a value.
    private func optional<T>(_ node: Node, _ read: (Node) throws(ConfigurationError) -> T) throws(ConfigurationError) -> T? {
        if case .scalar = node, node.null != nil { return nil }
        return try read(node)
    }

    /// A positive rate, or nothing (`~`) for no limit.
    private func rate(_ node: Node, _ path: String) throws(ConfigurationError) -> Double? {
        if case .scalar = node, node.null != nil { return nil }
        guard case .scalar = node, let value = node.float, value > 0, value <= 1_000_000 else {
            throw error(node, path, "expected requests per second in (0, 1000000], or ~ for no limit, got \(describe(node))")
        }
        return value
    }

    private func readMQTT(
        _ node: Node,
        at prefix: String,
        into mqtt: inout CoreConfiguration.MQTT
    ) throws(ConfigurationError) {
        let allowed = [
            "bind", "port", "tlsPort", "tls", "limits", "deniedSubscriptionFilters", "persistenceIntervalSeconds",
        ]
        try forEachKey(in: node, at: prefix, allowed: allowed) { key, value, path throws(ConfigurationError) in
            switch key {
            case "bind": mqtt.bind = try string(value, path)
            case "port": mqtt.port = try integer(value, path, in: 0...65_535)
            case "tlsPort": mqtt.tlsPort = try integer(value, path, in: 0...65_535)
            case "tls": mqtt.tls = try readTLS(value, at: path)
            case "limits": try readLimits(value, at: path, into: &mqtt.limits)
            case "deniedSubscriptionFilters": mqtt.deniedSubscriptionFilters = try stringList(value, path)
            default: mqtt.persistenceInterval = try seconds(value, path, in: 0.01...3600)
            }
        }
    }

    private func readTLS(_ node: Node, at prefix: String) throws(ConfigurationError) -> CoreConfiguration.TLSFiles? {
        if case .scalar = node, node.null != nil { return nil }  // `tls:` with no value: same as absent
        var certificate: String?
        var privateKey: String?
        var caCertificate: String?
        var things: [String: String] = [:]
        let allowed = ["certificate", "privateKey", "caCertificate", "thingsByFingerprint"]
        try forEachKey(in: node, at: prefix, allowed: allowed) { key, value, path throws(ConfigurationError) in
            switch key {
            case "certificate": certificate = try self.path(value, path)
            case "privateKey": privateKey = try self.path(value, path)
            case "caCertificate": caCertificate = try self.path(value, path)
            default: things = try stringMap(value, path)
            }
        }
        guard let certificate, let privateKey, let caCertificate else {
            let missing = [("certificate", certificate), ("privateKey", privateKey), ("caCertificate", caCertificate)]
                .filter { $0.1 == nil }.map(\.0)
            throw error(
                node,
                prefix,
                "certificate, privateKey and caCertificate go together; missing \(missing.joined(separator: ", "))"
            )
        }
        return .init(
            certificate: certificate,
            privateKey: privateKey,
            caCertificate: caCertificate,
            thingsByFingerprint: things
        )
    }

    private func readLimits(_ node: Node, at prefix: String, into limits: inout BrokerLimits) throws(ConfigurationError)
    {
        let allowed = [
            "maximumConnections", "maximumInflightMessages", "maximumQueuedMessages", "maximumPacketSize",
            "connectTimeoutSeconds", "maximumKeepAlive", "maximumSessionExpiry", "topicAliasMaximum",
            "maximumRetainedMessages", "queueQoS0WhileOffline",
        ]
        try forEachKey(in: node, at: prefix, allowed: allowed) { key, value, path throws(ConfigurationError) in
            switch key {
            case "maximumConnections": limits.maximumConnections = try integer(value, path, in: 1...1_000_000)
            case "maximumInflightMessages": limits.maximumInflightMessages = try integer(value, path, in: 1...65_535)
            case "maximumQueuedMessages": limits.maximumQueuedMessages = try integer(value, path, in: 1...10_000_000)
            // 268,435,455 is the largest remaining length MQTT can express.
            case "maximumPacketSize": limits.maximumPacketSize = try integer(value, path, in: 64...268_435_455)
            case "connectTimeoutSeconds": limits.connectTimeout = try seconds(value, path, in: 0.1...3600)
            case "maximumKeepAlive": limits.maximumKeepAlive = UInt16(try integer(value, path, in: 1...65_535))
            case "maximumSessionExpiry":
                limits.maximumSessionExpiry = UInt32(try integer(value, path, in: 0...Int(UInt32.max)))
            case "topicAliasMaximum": limits.topicAliasMaximum = UInt16(try integer(value, path, in: 0...65_535))
            case "maximumRetainedMessages":
                limits.maximumRetainedMessages = try integer(value, path, in: 0...10_000_000)
            default: limits.queueQoS0WhileOffline = try boolean(value, path)
            }
        }
    }

    // MARK: - Typed values

    private func forEachKey(
        in node: Node,
        at prefix: String?,
        allowed: [String],
        _ body: (String, Node, String) throws(ConfigurationError) -> Void
    ) throws(ConfigurationError) {
        guard case .mapping(let mapping) = node else {
            throw error(node, prefix, "expected a mapping with keys \(allowed.joined(separator: ", "))")
        }
        for (keyNode, value) in mapping {
            guard case .scalar(let scalar) = keyNode else {
                throw error(keyNode, prefix, "keys must be plain names (allowed: \(allowed.joined(separator: ", ")))")
            }
            let key = scalar.string
            let path = prefix.map { "\($0).\(key)" } ?? key
            guard allowed.contains(key) else {
                throw error(keyNode, path, "unknown key; allowed here: \(allowed.joined(separator: ", "))")
            }
            try body(key, value, path)
        }
    }

    private func string(_ node: Node, _ path: String) throws(ConfigurationError) -> String {
        guard case .scalar(let scalar) = node, node.null == nil, !scalar.string.isEmpty else {
            throw error(node, path, "expected a non-empty string, got \(describe(node))")
        }
        return scalar.string
    }

    private func path(_ node: Node, _ path: String) throws(ConfigurationError) -> String {
        let value = try string(node, path)
        return URL(fileURLWithPath: value, relativeTo: baseDirectory).standardizedFileURL.path
    }

    private func integer(_ node: Node, _ path: String, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard case .scalar = node, let value = node.int, range.contains(value) else {
            throw error(
                node,
                path,
                "expected an integer in \(range.lowerBound)...\(range.upperBound), got \(describe(node))"
            )
        }
        return value
    }

    private func seconds(
        _ node: Node,
        _ path: String,
        in range: ClosedRange<Double>
    ) throws(ConfigurationError) -> Duration {
        guard case .scalar = node, let value = node.float, range.contains(value) else {
            throw error(
                node,
                path,
                "expected a number of seconds in \(range.lowerBound)...\(range.upperBound), got \(describe(node))"
            )
        }
        return .milliseconds(Int64((value * 1000).rounded()))
    }

    private func boolean(_ node: Node, _ path: String) throws(ConfigurationError) -> Bool {
        guard case .scalar = node, let value = node.bool else {
            throw error(node, path, "expected true or false, got \(describe(node))")
        }
        return value
    }

    private func logLevel(_ node: Node, _ path: String) throws(ConfigurationError) -> Logger.Level {
        let names = Logger.Level.allCases.map(\.rawValue)
        guard case .scalar(let scalar) = node, let level = Logger.Level(rawValue: scalar.string.lowercased()) else {
            throw error(node, path, "expected one of \(names.joined(separator: ", ")), got \(describe(node))")
        }
        return level
    }

    private func stringList(_ node: Node, _ path: String) throws(ConfigurationError) -> [String] {
        guard case .sequence(let sequence) = node else {
            throw error(node, path, "expected a list of strings, got \(describe(node))")
        }
        var values: [String] = []
        for (index, element) in sequence.enumerated() {
            values.append(try string(element, "\(path)[\(index)]"))
        }
        return values
    }

    private func stringMap(_ node: Node, _ path: String) throws(ConfigurationError) -> [String: String] {
        guard case .mapping(let mapping) = node else {
            throw error(node, path, "expected a mapping of strings to strings, got \(describe(node))")
        }
        var values: [String: String] = [:]
        for (keyNode, value) in mapping {
            let key = try string(keyNode, path)
            values[key] = try string(value, "\(path).\(key)")
        }
        return values
    }

    private func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar): node.null != nil ? "nothing" : "\"\(scalar.string)\""
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    private func error(_ node: Node, _ path: String?, _ message: String) -> ConfigurationError {
        // Yams counts lines from 1 already.
        ConfigurationError(file: file, line: node.mark?.line, key: path, message: message)
    }
}
