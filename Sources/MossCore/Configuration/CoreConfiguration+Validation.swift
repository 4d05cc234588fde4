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
