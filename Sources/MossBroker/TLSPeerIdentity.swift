import Crypto
import NIOCore
import NIOSSL
import SwiftASN1
import X509

/// The client certificate of a TLS connection, reduced to what identifies the client.
struct TLSPeerIdentity {
    /// SHA-256 of the certificate's DER bytes, lowercase hex.
    let fingerprint: String
    /// The subject's (last) common name, if it has one.
    let commonName: String?

    /// Reads the verified peer certificate from the connection's TLS handler; nil without one.
    static func read(from pipeline: ChannelPipeline) -> TLSPeerIdentity? {
        guard let handler = try? pipeline.syncOperations.handler(type: NIOSSLServerHandler.self),
            let certificate = handler.peerCertificate,
            let der = try? certificate.toDERBytes()
        else { return nil }
        let digest = SHA256.hash(data: der)
        let fingerprint = digest.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
        var commonName: String?
        if let parsed = try? Certificate(derEncoded: der) {
            for rdn in parsed.subject {
                for attribute in rdn where attribute.type == .RDNAttributeType.commonName {
                    commonName = String(attribute.value)
                }
            }
        }
        return TLSPeerIdentity(fingerprint: fingerprint, commonName: commonName)
    }
}
