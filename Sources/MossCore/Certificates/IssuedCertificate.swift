import Crypto
import SwiftASN1
import X509

/// A certificate and its private key, PEM-encoded, with the fingerprint operators compare.
public struct IssuedCertificate: Sendable, Hashable {
    public var certificatePEM: String
    public var privateKeyPEM: String
    /// SHA-256 of the certificate's DER encoding, lowercase hex without separators (AWS IoT's certificate id form).
    public var fingerprint: String
    /// The subject's common name.
    public var commonName: String

    init(certificate: Certificate, privateKey: Certificate.PrivateKey, commonName: String) throws {
        self.certificatePEM = try certificate.serializeAsPEM().pemString
        self.privateKeyPEM = try privateKey.serializeAsPEM().pemString
        self.fingerprint = try Self.fingerprint(of: certificate)
        self.commonName = commonName
    }

    static func fingerprint(of certificate: Certificate) throws -> String {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return SHA256.hash(data: serializer.serializedBytes).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}
