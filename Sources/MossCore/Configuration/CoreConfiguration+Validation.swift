import MossAWS
import MossMQTT

extension CoreConfiguration {
    /// Checks what the YAML reader cannot check value by value: formats and combinations.
    /// Flags are applied after loading, so the CLI calls this again before starting.
    public func validate() throws(ConfigurationError) {
        guard !dataDirectory.isEmpty else {
            throw ConfigurationError(key: "dataDirectory", message: "must not be empty")
        }
        guard !mqtt.bind.isEmpty else {
            throw ConfigurationError(key: "mqtt.bind", message: "must be an IP address or host name to listen on")
        }
        for (key, port) in [("mqtt.port", mqtt.port), ("mqtt.tlsPort", mqtt.tlsPort)] where !(0...65_535).contains(port)
        {
            throw ConfigurationError(
                key: key,
                message: "expected a port in 0...65535 (0 picks a free port), got \(port)"
            )
        }
        if mqtt.port != 0 && mqtt.port == mqtt.tlsPort {
            throw ConfigurationError(key: "mqtt.tlsPort", message: "must differ from mqtt.port (\(mqtt.port))")
        }
        guard account.count == 12, account.allSatisfy(\.isASCIIDigit) else {
            throw ConfigurationError(key: "account", message: "expected a 12-digit AWS account id, got \"\(account)\"")
        }
        guard Self.isRegionName(region) else {
            throw ConfigurationError(
                key: "region",
                message: "expected an AWS region name such as us-east-1, got \"\(region)\""
            )
        }
        for (key, url) in [("resources.s3Endpoint", resources.s3Endpoint), ("resources.sageMakerEndpoint", resources.sageMakerEndpoint)] {
            guard let url else { continue }
            do {
                _ = try AWSEndpoint(url: url)
            } catch {
                throw ConfigurationError(key: key, message: "\"\(url)\" is not an endpoint URL (\(error))")
            }
        }
        try validateCloud()
        for (index, filter) in mqtt.deniedSubscriptionFilters.enumerated() {
            do {
                try MQTTTopic.validateFilter(filter)
            } catch {
                throw ConfigurationError(
                    key: "mqtt.deniedSubscriptionFilters[\(index)]",
                    message: "\"\(filter)\" is not a valid MQTT topic filter (\(error))"
                )
            }
        }
    }

    private func validateCloud() throws(ConfigurationError) {
        guard let endpoint = cloud.endpoint else { return }
        guard !endpoint.isEmpty, !endpoint.contains("/"), !endpoint.contains(":") else {
            throw ConfigurationError(
                key: "cloud.endpoint",
                message: "expected a host name such as PREFIX-ats.iot.REGION.amazonaws.com (no scheme or port), got \"\(endpoint)\""
            )
        }
        guard cloud.certificate != nil else {
            throw ConfigurationError(key: "cloud.certificate", message: "the cloud needs the core's certificate (PEM) for mutual TLS")
        }
        guard cloud.privateKey != nil else {
            throw ConfigurationError(key: "cloud.privateKey", message: "the cloud needs the core's private key (PEM) for mutual TLS")
        }
        guard (1...65_535).contains(cloud.port) else {
            throw ConfigurationError(key: "cloud.port", message: "expected a port in 1...65535, got \(cloud.port)")
        }
        if cloud.spooler.maximumBytes < 262_144 {
            throw ConfigurationError(
                key: "cloud.spooler.maximumBytes",
                message: "must be at least 262144 (V1's minimum), got \(cloud.spooler.maximumBytes)"
            )
        }
        if let dataPlane = cloud.dataPlane.endpoint {
            guard dataPlane.hasPrefix("https://") || dataPlane.hasPrefix("http://") else {
                throw ConfigurationError(
                    key: "cloud.dataPlane.endpoint",
                    message: "expected https://HOST[:PORT] (or http:// for a local stand-in), got \"\(dataPlane)\""
                )
            }
        }
    }

    /// `xx-name-N` (us-east-1, eu-central-2, us-gov-west-1, cn-north-1).
    private static func isRegionName(_ region: String) -> Bool {
        let parts = region.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 3, let last = parts.last, !last.isEmpty, last.allSatisfy(\.isASCIIDigit) else {
            return false
        }
        return parts.dropLast().allSatisfy { part in !part.isEmpty && part.allSatisfy { $0.isASCII && $0.isLowercase } }
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
