import Crypto
import X509
import _CryptoExtras

/// The key algorithm for a new certificate. P-256 by default: small, fast, and what AWS IoT devices use.
public enum CertificateKeyType: String, Sendable, CaseIterable {
    case p256
    case p384
    /// For device TLS stacks that only speak RSA.
    case rsa2048

    func makePrivateKey() throws -> Certificate.PrivateKey {
        switch self {
        case .p256: Certificate.PrivateKey(P256.Signing.PrivateKey())
        case .p384: Certificate.PrivateKey(P384.Signing.PrivateKey())
        case .rsa2048: Certificate.PrivateKey(try _RSA.Signing.PrivateKey(keySize: .bits2048))
        }
    }
}
