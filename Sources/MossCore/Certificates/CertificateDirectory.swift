import Foundation

/// The certificates `moss certs` writes under `DATA_DIR/certs`, and which the daemon picks up for its TLS
/// listener when the configuration names none:
///
///     certs/ca.pem  ca.key  server.pem  server.key  devices/THING.pem  devices/THING.key
///
/// Certificates are mode 0644, private keys 0600.
public struct CertificateDirectory: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    public var caCertificate: String { path + "/ca.pem" }
    public var caPrivateKey: String { path + "/ca.key" }
    public var serverCertificate: String { path + "/server.pem" }
    public var serverPrivateKey: String { path + "/server.key" }
    public var devicesDirectory: String { path + "/devices" }
    public func deviceCertificate(_ thing: String) -> String { devicesDirectory + "/\(thing).pem" }
    public func devicePrivateKey(_ thing: String) -> String { devicesDirectory + "/\(thing).key" }

    /// Whether the three files the TLS listener needs are all present.
    public var hasServerCredentials: Bool {
        [caCertificate, serverCertificate, serverPrivateKey].allSatisfy { FileManager.default.fileExists(atPath: $0) }
    }

    /// Creates a CA and a server certificate. Refuses to replace an existing CA unless `force` is set,
    /// because replacing it invalidates every device certificate it signed.
    public func initialize(
        names: [SubjectAlternativeName],
        keyType: CertificateKeyType = .p256,
        force: Bool = false
    ) throws -> (authority: IssuedCertificate, server: IssuedCertificate) {
        if !force && FileManager.default.fileExists(atPath: caCertificate) {
            throw CertificateError.alreadyInitialized(caCertificate)
        }
        try createDirectory(path)
        let authority = try LocalCertificateAuthority.create(keyType: keyType)
        let server = try authority.issueServerCertificate(names: names, keyType: keyType)
        try write(authority.certificate, certificatePath: caCertificate, keyPath: caPrivateKey)
        try write(server, certificatePath: serverCertificate, keyPath: serverPrivateKey)
        return (authority.certificate, server)
    }

    /// Re-issues the server certificate (new SANs, or renewal) with the existing CA.
    public func issueServer(
        names: [SubjectAlternativeName],
        keyType: CertificateKeyType = .p256
    ) throws -> IssuedCertificate {
        let server = try loadAuthority().issueServerCertificate(names: names, keyType: keyType)
        try write(server, certificatePath: serverCertificate, keyPath: serverPrivateKey)
        return server
    }

    /// Issues a device certificate for `thingName`; refuses to replace an existing one unless `force` is set.
    public func issueDevice(
        thingName: String,
        keyType: CertificateKeyType = .p256,
        force: Bool = false
    ) throws -> IssuedCertificate {
        try LocalCertificateAuthority.validateThingName(thingName)
        let certificatePath = deviceCertificate(thingName)
        if !force && FileManager.default.fileExists(atPath: certificatePath) {
            throw CertificateError.alreadyExists(certificatePath)
        }
        let device = try loadAuthority().issueDeviceCertificate(thingName: thingName, keyType: keyType)
        try createDirectory(devicesDirectory)
        try write(device, certificatePath: certificatePath, keyPath: devicePrivateKey(thingName))
        return device
    }

    /// Loads the CA written by ``initialize(names:keyType:force:)``.
    public func loadAuthority() throws -> LocalCertificateAuthority {
        guard FileManager.default.fileExists(atPath: caCertificate),
            FileManager.default.fileExists(atPath: caPrivateKey)
        else {
            throw CertificateError.missingAuthority(path)
        }
        return try LocalCertificateAuthority(
            certificatePEM: try read(caCertificate),
            privateKeyPEM: try read(caPrivateKey),
            source: caCertificate
        )
    }

    private func read(_ file: String) throws(CertificateError) -> String {
        do {
            return try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw .unreadable(file, error.localizedDescription)
        }
    }

    private func write(_ issued: IssuedCertificate, certificatePath: String, keyPath: String) throws(CertificateError) {
        // The key goes first: a certificate on disk without its key would look usable and fail at handshake.
        do {
            try AtomicFile.write(issued.privateKeyPEM, to: keyPath, mode: 0o600)
        } catch {
            throw .unwritable(keyPath, "\(error)")
        }
        do {
            try AtomicFile.write(issued.certificatePEM, to: certificatePath, mode: 0o644)
        } catch {
            throw .unwritable(certificatePath, "\(error)")
        }
    }

    private func createDirectory(_ directory: String) throws(CertificateError) {
        do {
            try FileManager.default.createDirectory(
                atPath: directory,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
        } catch {
            throw .unwritable(directory, error.localizedDescription)
        }
    }
}
