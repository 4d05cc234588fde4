import Foundation
public import MossBroker

extension CoreConfiguration {
    /// The TLS listener's files: those the configuration names, else those `moss certs init` wrote into
    /// `DATA_DIR/certs`, else nil (no TLS listener). Named files must exist: a typo must not silently turn TLS off.
    public func resolveTLS(in dataDirectory: DataDirectory) throws(DaemonError) -> MutualTLSConfiguration? {
        if let tls = mqtt.tls {
            for (key, path) in [
                ("mqtt.tls.certificate", tls.certificate), ("mqtt.tls.privateKey", tls.privateKey),
                ("mqtt.tls.caCertificate", tls.caCertificate),
            ] where !FileManager.default.isReadableFile(atPath: path) {
                throw .tlsFile(key: key, path: path)
            }
            return MutualTLSConfiguration(
                certificateChainPath: tls.certificate,
                privateKeyPath: tls.privateKey,
                trustedCAPath: tls.caCertificate,
                requireClientCertificate: true,
                thingsByFingerprint: tls.thingsByFingerprint
            )
        }
        let certificates = dataDirectory.certificates
        guard certificates.hasServerCredentials else { return nil }
        return MutualTLSConfiguration(
            certificateChainPath: certificates.serverCertificate,
            privateKeyPath: certificates.serverPrivateKey,
            trustedCAPath: certificates.caCertificate,
            requireClientCertificate: true
        )
    }

    /// The broker's configuration: a plain listener, plus a mutual-TLS one when `tls` is set.
    public func brokerConfiguration(tls: MutualTLSConfiguration?) -> BrokerConfiguration {
        var listeners = [ListenerConfiguration(name: "mqtt", host: mqtt.bind, port: mqtt.port)]
        if let tls {
            listeners.append(ListenerConfiguration(name: "mqtts", host: mqtt.bind, port: mqtt.tlsPort, tls: tls))
        }
        return BrokerConfiguration(
            listeners: listeners,
            limits: mqtt.limits,
            deniedSubscriptionFilters: mqtt.deniedSubscriptionFilters,
            persistenceInterval: mqtt.persistenceInterval
        )
    }
}
