/// Why no credentials were found: names what is missing and every place that was looked at.
public struct AWSCredentialsError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong, in a stable form tests and callers can switch on.
    public enum Reason: Sendable, Hashable {
        /// No source had credentials.
        case notFound
        /// A named profile is in neither file.
        case profileNotFound
        /// A source had an access key without a secret, or the reverse.
        case incomplete
        /// A profile uses a source Moss does not support (assume-role, SSO, credential_process, web identity).
        case unsupported
        /// A file exists but could not be read.
        case unreadable
    }

    /// The kind of failure.
    public let reason: Reason
    /// The full explanation, with the places looked at.
    public let description: String

    init(_ reason: Reason, _ description: String) {
        self.reason = reason
        self.description = description
    }
}
