/// Why a certificate could not be made or read. Messages name the file or value at fault.
public struct CertificateError: Error, Hashable, CustomStringConvertible {
    public let description: String

    private init(_ description: String) { self.description = description }

    static func invalidSubjectAlternativeName(_ value: String) -> Self {
        Self("\"\(value)\" is neither an IP address nor a valid DNS name")
    }

    static func invalidThingName(_ value: String) -> Self {
        Self("\"\(value)\" is not a valid thing name: use 1 to 128 characters from a-z A-Z 0-9 : _ -")
    }

    static func alreadyInitialized(_ path: String) -> Self {
        Self(
            "a CA already exists at \(path); `moss certs server` re-issues the server certificate, "
                + "`moss certs init --force` replaces the CA (every device certificate it signed stops working)"
        )
    }

    static func missingAuthority(_ directory: String) -> Self {
        Self("no CA in \(directory); run `moss certs init` first")
    }

    static func alreadyExists(_ path: String) -> Self {
        Self("\(path) already exists; pass --force to replace it")
    }

    static func unreadable(_ path: String, _ reason: String) -> Self {
        Self("cannot read \(path): \(reason)")
    }

    static func unwritable(_ path: String, _ reason: String) -> Self {
        Self("cannot write \(path): \(reason)")
    }

    static func notACertificateAuthority(_ path: String) -> Self {
        Self("\(path) is not a CA certificate (basicConstraints CA is not set)")
    }

    static func signing(_ reason: String) -> Self {
        Self("could not sign the certificate: \(reason)")
    }
}
