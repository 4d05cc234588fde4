import Foundation
import SwiftASN1
import X509

/// The gateway's own CA, which replaces the V1 group CA: it signs the core's server certificate and
/// the devices' client certificates for mutual TLS on the local broker.
public struct LocalCertificateAuthority: Sendable {
    public let certificate: IssuedCertificate
    private let x509: Certificate
    private let privateKey: Certificate.PrivateKey

    /// Creates a new self-signed CA (basicConstraints CA, keyUsage keyCertSign and cRLSign).
    public static func create(
        commonName: String = "Moss Local CA",
        keyType: CertificateKeyType = .p256,
        validityDays: Int = 3650
    ) throws -> LocalCertificateAuthority {
        let now = Date()
        let key = try keyType.makePrivateKey()
        let name = try DistinguishedName {
            OrganizationName("Moss")
            CommonName(commonName)
        }
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
            Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            SubjectKeyIdentifier(hash: key.publicKey)
        }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: key.publicKey,
            notValidBefore: now.addingTimeInterval(-3600),  // tolerate a gateway clock slightly behind
            notValidAfter: now.addingTimeInterval(Double(validityDays) * 86_400),
            issuer: name,
            subject: name,
            extensions: extensions,
            issuerPrivateKey: key
        )
        return try LocalCertificateAuthority(x509: certificate, privateKey: key, commonName: commonName)
    }

    /// Loads an existing CA from its PEM certificate and key.
    public init(certificatePEM: String, privateKeyPEM: String, source: String) throws(CertificateError) {
        let certificate: Certificate
        let key: Certificate.PrivateKey
        do {
            certificate = try Certificate(pemEncoded: certificatePEM)
            key = try Certificate.PrivateKey(pemEncoded: privateKeyPEM)
        } catch {
            throw .unreadable(source, "\(error)")
        }
        guard case .isCertificateAuthority = try? certificate.extensions.basicConstraints else {
            throw .notACertificateAuthority(source)
        }
        let commonName = certificate.subject.commonNameValue ?? ""
        do {
            try self.init(x509: certificate, privateKey: key, commonName: commonName)
        } catch {
            throw .unreadable(source, "\(error)")
        }
    }

    private init(x509: Certificate, privateKey: Certificate.PrivateKey, commonName: String) throws {
        self.x509 = x509
        self.privateKey = privateKey
        self.certificate = try IssuedCertificate(certificate: x509, privateKey: privateKey, commonName: commonName)
    }

    /// A server certificate for the core's TLS listener (EKU serverAuth) carrying `names` as SANs.
    public func issueServerCertificate(
        names: [SubjectAlternativeName] = SubjectAlternativeName.defaults,
        commonName: String? = nil,
        keyType: CertificateKeyType = .p256,
        validityDays: Int = 1825
    ) throws -> IssuedCertificate {
        let firstDNSName = names.lazy.compactMap { name -> String? in
            if case .dnsName(let dns) = name { return dns } else { return nil }
        }.first
        let generalNames: [GeneralName] = names.map { name in
            switch name {
            case .dnsName(let dns): .dnsName(dns)
            case .ipAddress(_, let bytes): .ipAddress(ASN1OctetString(contentBytes: ArraySlice(bytes)))
            }
        }
        return try issue(
            commonName: commonName ?? firstDNSName ?? "moss-core",
            usage: .serverAuth,
            subjectAlternativeNames: generalNames,
            keyType: keyType,
            validityDays: validityDays
        )
    }

    /// A device (client) certificate whose subject CN is the thing name (EKU clientAuth).
    public func issueDeviceCertificate(
        thingName: String,
        keyType: CertificateKeyType = .p256,
        validityDays: Int = 1825
    ) throws -> IssuedCertificate {
        try Self.validateThingName(thingName)
        return try issue(
            commonName: thingName,
            usage: .clientAuth,
            subjectAlternativeNames: [],
            keyType: keyType,
            validityDays: validityDays
        )
    }

    /// AWS IoT's rule for thing names, which also keeps them safe as file names.
    public static func validateThingName(_ name: String) throws(CertificateError) {
        let allowed = name.allSatisfy {
            $0.isASCII && ($0.isLetter || $0.isNumber || $0 == ":" || $0 == "_" || $0 == "-")
        }
        guard (1...128).contains(name.count), allowed else { throw .invalidThingName(name) }
    }

    private func issue(
        commonName: String,
        usage: ExtendedKeyUsage.Usage,
        subjectAlternativeNames: [GeneralName],
        keyType: CertificateKeyType,
        validityDays: Int
    ) throws -> IssuedCertificate {
        let now = Date()
        let key = try keyType.makePrivateKey()
        let subject = try DistinguishedName {
            OrganizationName("Moss")
            CommonName(commonName)
        }
        let authorityKeyID = try x509.extensions.subjectKeyIdentifier?.keyIdentifier
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(KeyUsage(digitalSignature: true, keyEncipherment: keyType == .rsa2048))
            try ExtendedKeyUsage([usage])
            SubjectKeyIdentifier(hash: key.publicKey)
            AuthorityKeyIdentifier(keyIdentifier: authorityKeyID)
            if !subjectAlternativeNames.isEmpty {
                SubjectAlternativeNames(subjectAlternativeNames)
            }
        }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: key.publicKey,
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: min(now.addingTimeInterval(Double(validityDays) * 86_400), x509.notValidAfter),
            issuer: x509.subject,
            subject: subject,
            extensions: extensions,
            issuerPrivateKey: privateKey
        )
        return try IssuedCertificate(certificate: certificate, privateKey: key, commonName: commonName)
    }
}

extension DistinguishedName {
    /// The first CN attribute as a string, if any.
    fileprivate var commonNameValue: String? {
        for rdn in self {
            for attribute in rdn where attribute.type == .RDNAttributeType.commonName {
                return attribute.value.description
            }
        }
        return nil
    }
}
