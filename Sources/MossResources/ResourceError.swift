/// Why a resource could not be fetched, checked, unpacked or installed. The previous version stays in place.
///
/// `code` is a stable word a deployment reports as its detailed error code; `message` names what is wrong and,
/// where there is one, the fix.
public struct ResourceError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable, machine-readable reason.
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The service-role policy does not allow reading the object.
        public static let accessNotAllowed = Self(rawValue: "ResourceAccessNotAllowed")
        /// A bucket name V1 refused (periods).
        public static let bucketNameUnsupported = Self(rawValue: "ResourceBucketNameUnsupported")
        /// The source does not exist (no such object, key, job, file, or HTTP 404).
        public static let sourceNotFound = Self(rawValue: "ResourceSourceNotFound")
        /// The source refused the credentials or has no model (a SageMaker job still training).
        public static let sourceRefused = Self(rawValue: "ResourceSourceRefused")
        /// No credentials could be found for an AWS source.
        public static let credentialsMissing = Self(rawValue: "ResourceCredentialsMissing")
        /// The transfer failed (connection, timeout, unexpected answer).
        public static let downloadFailed = Self(rawValue: "ResourceDownloadFailed")
        /// The package's SHA-256 is not the one the group pins.
        public static let checksumMismatch = Self(rawValue: "ResourceChecksumMismatch")
        /// Not a .zip or .tar.gz, or damaged.
        public static let archiveCorrupt = Self(rawValue: "ResourceArchiveCorrupt")
        /// An entry that would write outside the resource's directory, or a device, FIFO or escaping link.
        public static let archiveUnsafe = Self(rawValue: "ResourceArchiveUnsafe")
        /// More bytes or files than the configured limits allow (a zip bomb, or limits to raise).
        public static let archiveTooLarge = Self(rawValue: "ResourceArchiveTooLarge")
        /// The data directory could not take the files, or the owner could not be applied.
        public static let installFailed = Self(rawValue: "ResourceInstallFailed")
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
