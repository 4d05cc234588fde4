import Foundation
import MossCore
import MossTestSupport
import Testing

/// Certificates are checked by OpenSSL, not by the code that made them.
@Suite("moss certs")
struct CertificateTests {
    @Test func initCreatesACAAndAServerCertificateOpenSSLAccepts() async throws {
        try await withTemporaryDirectory { root in
            let certificates = CertificateDirectory(path: root + "/certs")
            let names = try ["localhost", "gateway.local", "127.0.0.1", "192.168.7.2", "::1"].map {
                try SubjectAlternativeName(parsing: $0)
            }
            let (authority, server) = try certificates.initialize(names: names)

            #expect(
                try openssl(["verify", "-CAfile", certificates.caCertificate, certificates.serverCertificate]).contains(
                    ": OK"
                )
            )
            #expect(
                try openssl([
                    "verify", "-purpose", "sslserver", "-CAfile", certificates.caCertificate,
                    certificates.serverCertificate,
                ]).contains(": OK")
            )

            let ca = try openssl(["x509", "-in", certificates.caCertificate, "-noout", "-text"])
            #expect(ca.contains("CA:TRUE"))
            #expect(ca.contains("Certificate Sign, CRL Sign"))
            #expect(ca.contains("ASN1 OID: prime256v1"))

            let text = try openssl(["x509", "-in", certificates.serverCertificate, "-noout", "-text"])
            #expect(
                text.contains(
                    "DNS:localhost, DNS:gateway.local, IP Address:127.0.0.1, IP Address:192.168.7.2, IP Address:0:0:0:0:0:0:0:1"
                )
            )
            #expect(text.contains("TLS Web Server Authentication"))
            #expect(text.contains("CA:FALSE"))
            #expect(text.contains("Subject: O = Moss, CN = localhost"))

            #expect(authority.fingerprint == (try opensslFingerprint(certificates.caCertificate)))
            #expect(server.fingerprint == (try opensslFingerprint(certificates.serverCertificate)))
            #expect(server.fingerprint.count == 64)
            #expect(server.fingerprint == server.fingerprint.lowercased())

            #expect(try mode(of: certificates.caPrivateKey) == 0o600)
            #expect(try mode(of: certificates.serverPrivateKey) == 0o600)
            #expect(try mode(of: certificates.caCertificate) == 0o644)
            #expect(certificates.hasServerCredentials)
        }
    }

    @Test(arguments: CertificateKeyType.allCases)
    func deviceCertificatesCarryTheThingNameAndClientAuth(keyType: CertificateKeyType) async throws {
        try await withTemporaryDirectory { root in
            let certificates = CertificateDirectory(path: root + "/certs")
            _ = try certificates.initialize(names: SubjectAlternativeName.defaults, keyType: keyType)
            let device = try certificates.issueDevice(thingName: "bme680-sensor_1", keyType: keyType)

            let path = certificates.deviceCertificate("bme680-sensor_1")
            #expect(
                try openssl(["verify", "-purpose", "sslclient", "-CAfile", certificates.caCertificate, path]).contains(
                    ": OK"
                )
            )
            let text = try openssl(["x509", "-in", path, "-noout", "-text"])
            #expect(text.contains("CN = bme680-sensor_1"))
            #expect(text.contains("TLS Web Client Authentication"))
            #expect(!text.contains("TLS Web Server Authentication"))
            #expect(device.fingerprint == (try opensslFingerprint(path)))
            #expect(try mode(of: certificates.devicePrivateKey("bme680-sensor_1")) == 0o600)
            // The key belongs to the certificate.
            let fromKey = try openssl(["pkey", "-in", certificates.devicePrivateKey("bme680-sensor_1"), "-pubout"])
            let fromCertificate = try openssl(["x509", "-in", path, "-noout", "-pubkey"])
            #expect(fromKey == fromCertificate)
        }
    }

    @Test func aDeviceCertificateFromAnotherCAIsRejected() async throws {
        try await withTemporaryDirectory { root in
            let first = CertificateDirectory(path: root + "/one")
            let second = CertificateDirectory(path: root + "/two")
            _ = try first.initialize(names: SubjectAlternativeName.defaults)
            _ = try second.initialize(names: SubjectAlternativeName.defaults)
            _ = try second.issueDevice(thingName: "intruder")
            let output = try openssl(
                ["verify", "-CAfile", first.caCertificate, second.deviceCertificate("intruder")],
                expectSuccess: false
            )
            #expect(!output.contains(": OK"))
        }
    }

    @Test func initRefusesToReplaceACAUnlessForced() async throws {
        try await withTemporaryDirectory { root in
            let certificates = CertificateDirectory(path: root + "/certs")
            let (first, _) = try certificates.initialize(names: SubjectAlternativeName.defaults)
            let error = #expect(throws: CertificateError.self) {
                try certificates.initialize(names: SubjectAlternativeName.defaults)
            }
            #expect(error?.description.contains("--force") == true)
            let (replaced, _) = try certificates.initialize(names: SubjectAlternativeName.defaults, force: true)
            #expect(replaced.fingerprint != first.fingerprint)
        }
    }

    @Test func serverReissueKeepsTheCA() async throws {
        try await withTemporaryDirectory { root in
            let certificates = CertificateDirectory(path: root + "/certs")
            let (authority, _) = try certificates.initialize(names: SubjectAlternativeName.defaults)
            _ = try certificates.issueServer(names: [try SubjectAlternativeName(parsing: "moss.example")])
            #expect(try opensslFingerprint(certificates.caCertificate) == authority.fingerprint)
            #expect(
                try openssl(["x509", "-in", certificates.serverCertificate, "-noout", "-ext", "subjectAltName"])
                    .contains("DNS:moss.example")
            )
            #expect(
                try openssl(["verify", "-CAfile", certificates.caCertificate, certificates.serverCertificate]).contains(
                    ": OK"
                )
            )
        }
    }

    @Test func devicesNeedACAFirst() async throws {
        try await withTemporaryDirectory { root in
            let error = #expect(throws: CertificateError.self) {
                try CertificateDirectory(path: root + "/certs").issueDevice(thingName: "sensor")
            }
            #expect(error?.description.contains("moss certs init") == true)
        }
    }

    @Test(arguments: ["", "a/b", "../etc", "name with space", String(repeating: "x", count: 129)])
    func badThingNamesAreRefused(name: String) {
        #expect(throws: CertificateError.self) { try LocalCertificateAuthority.validateThingName(name) }
    }

    @Test(arguments: ["", "-bad.example", "under_score.example", "a..b", "http://x"])
    func badSubjectAlternativeNamesAreRefused(value: String) {
        let error = #expect(throws: CertificateError.self) { try SubjectAlternativeName(parsing: value) }
        #expect(error?.description.contains("\"\(value)\"") == true)
    }

    @Test func subjectAlternativeNamesParse() throws {
        #expect(try SubjectAlternativeName(parsing: "10.0.0.1") == .ipAddress("10.0.0.1", bytes: [10, 0, 0, 1]))
        #expect(try SubjectAlternativeName(parsing: "Gateway.Local") == .dnsName("gateway.local"))
        #expect(try SubjectAlternativeName(parsing: "*.moss.example") == .dnsName("*.moss.example"))
        if case .ipAddress(_, let bytes) = try SubjectAlternativeName(parsing: "fe80::1") {
            #expect(bytes.count == 16)
        } else {
            Issue.record("fe80::1 is an IPv6 address")
        }
    }
}

/// Runs openssl and returns its standard output and error together.
func openssl(_ arguments: [String], expectSuccess: Bool = true) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["openssl"] + arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    if expectSuccess && process.terminationStatus != 0 {
        Issue.record("openssl \(arguments.joined(separator: " ")) failed: \(output)")
    }
    return output
}

/// OpenSSL's SHA-256 fingerprint of a PEM certificate, as lowercase hex without colons.
func opensslFingerprint(_ path: String) throws -> String {
    let output = try openssl(["x509", "-in", path, "-noout", "-fingerprint", "-sha256"])
    let hex = output.split(separator: "=", maxSplits: 1).last.map(String.init) ?? ""
    return hex.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: ":", with: "").lowercased()
}

func mode(of path: String) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    return (attributes[.posixPermissions] as? Int ?? -1) & 0o777
}
