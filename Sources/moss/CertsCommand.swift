import ArgumentParser
import MossCore

/// `moss certs`: the gateway's own CA, its server certificate and device certificates, in DATA_DIR/certs.
struct CertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certs",
        abstract: "Make the local CA, the core's server certificate and device certificates for mutual TLS.",
        subcommands: [Init.self, Server.self, Device.self]
    )

    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Create a CA and a server certificate in DATA_DIR/certs (the TLS listener then starts with `moss run`)."
        )

        @OptionGroup var dataDirectory: DataDirectoryOptions

        @Option(
            name: .customLong("san"),
            help: "A DNS name or IP address the core is reached at (repeatable; default: localhost and 127.0.0.1)."
        )
        var names: [String] = []

        @Option(help: "Key algorithm: \(KeyTypeOption.allCases.map(\.rawValue).joined(separator: ", ")).")
        var keyType: KeyTypeOption = .p256

        @Flag(help: "Replace an existing CA. Every device certificate it signed stops working.")
        var force = false

        func run() async throws {
            let certificates = dataDirectory.resolved.certificates
            let (authority, server) = try certificates.initialize(
                names: try parseNames(names),
                keyType: keyType.keyType,
                force: force
            )
            report("CA", authority, at: certificates.caCertificate, key: certificates.caPrivateKey)
            report("server", server, at: certificates.serverCertificate, key: certificates.serverPrivateKey)
        }
    }

    struct Server: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-issue the core's server certificate with the existing CA (new SANs or renewal)."
        )

        @OptionGroup var dataDirectory: DataDirectoryOptions

        @Option(
            name: .customLong("san"),
            help: "A DNS name or IP address the core is reached at (repeatable; default: localhost and 127.0.0.1)."
        )
        var names: [String] = []

        @Option(help: "Key algorithm: \(KeyTypeOption.allCases.map(\.rawValue).joined(separator: ", ")).")
        var keyType: KeyTypeOption = .p256

        func run() async throws {
            let certificates = dataDirectory.resolved.certificates
            let server = try certificates.issueServer(names: try parseNames(names), keyType: keyType.keyType)
            report("server", server, at: certificates.serverCertificate, key: certificates.serverPrivateKey)
        }
    }

    struct Device: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a device certificate whose subject CN is the thing name."
        )

        @OptionGroup var dataDirectory: DataDirectoryOptions

        @Argument(help: "The device's thing name (1-128 of a-z A-Z 0-9 : _ -).")
        var thingName: String

        @Option(help: "Key algorithm: \(KeyTypeOption.allCases.map(\.rawValue).joined(separator: ", ")).")
        var keyType: KeyTypeOption = .p256

        @Flag(help: "Replace an existing certificate for this thing.")
        var force = false

        func run() async throws {
            let certificates = dataDirectory.resolved.certificates
            let device = try certificates.issueDevice(thingName: thingName, keyType: keyType.keyType, force: force)
            report(
                "device",
                device,
                at: certificates.deviceCertificate(thingName),
                key: certificates.devicePrivateKey(thingName)
            )
        }
    }
}

/// `--key-type`; the CLI's own enum, because conforming MossCore's type here would be a retroactive conformance.
enum KeyTypeOption: String, CaseIterable, ExpressibleByArgument {
    case p256, p384, rsa2048

    var keyType: CertificateKeyType {
        switch self {
        case .p256: .p256
        case .p384: .p384
        case .rsa2048: .rsa2048
        }
    }
}

private func parseNames(_ values: [String]) throws -> [SubjectAlternativeName] {
    values.isEmpty ? SubjectAlternativeName.defaults : try values.map { try SubjectAlternativeName(parsing: $0) }
}

private func report(_ kind: String, _ certificate: IssuedCertificate, at path: String, key: String) {
    print("\(kind) certificate: \(path)")
    print("  subject CN: \(certificate.commonName)")
    print("  private key: \(key)")
    print("  SHA-256 fingerprint: \(certificate.fingerprint)")
}
