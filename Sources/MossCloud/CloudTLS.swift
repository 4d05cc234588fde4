public import NIOSSL

/// The TLS client context for the cloud: the core's certificate and key, the endpoint's CA, ALPN on 443.
public enum CloudTLS {
    /// AWS IoT's ALPN protocol for MQTT with a client certificate on port 443.
    public static let mqttALPN = "x-amzn-mqtt-ca"

    /// Reads the files once; an unreadable or wrong file is an error that names it.
    public static func context(for configuration: CloudConnectionConfiguration) throws(CloudError) -> NIOSSLContext {
        let tls = try self.configuration(for: configuration, alpn: configuration.alpn ? [mqttALPN] : [])
        do {
            return try NIOSSLContext(configuration: tls)
        } catch {
            throw .unreadableFile(what: "privateKey", path: configuration.privateKey, reason: "does not match the certificate (\(error))")
        }
    }

    /// The client configuration: the certificate chain, the key, the CA and `alpn`.
    public static func configuration(
        for configuration: CloudConnectionConfiguration,
        alpn: [String]
    ) throws(CloudError) -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        do {
            tls.certificateChain = try NIOSSLCertificate.fromPEMFile(configuration.certificate).map { .certificate($0) }
        } catch {
            throw .unreadableFile(what: "certificate", path: configuration.certificate, reason: "\(error)")
        }
        do {
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: configuration.privateKey, format: .pem))
        } catch {
            throw .unreadableFile(what: "privateKey", path: configuration.privateKey, reason: "\(error)")
        }
        if let ca = configuration.caCertificate {
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(ca))
            } catch {
                throw .unreadableFile(what: "caCertificate", path: ca, reason: "\(error)")
            }
        }
        tls.applicationProtocols = alpn
        return tls
    }
}
