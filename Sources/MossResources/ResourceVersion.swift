/// One installed version of a resource: what `moss resources` lists, kept as JSON beside the version's directory.
public struct ResourceVersion: Sendable, Hashable, Codable {
    public var resourceId: String
    /// The version's directory name under `DATA_DIR/resources/<id>/versions/`.
    public var version: String
    /// The source as the group file wrote it.
    public var source: String
    public var validator: ResourceFetcher.Validator
    /// SHA-256 of the package (lowercase hex); nil for a local directory source.
    public var sha256: String?
    /// Bytes of the package as downloaded.
    public var packageBytes: Int64
    /// Bytes of the unpacked files, and how many entries the package had.
    public var unpackedBytes: Int64
    public var entries: Int
    public var owner: ResourceOwner?
    /// Seconds since 1970.
    public var installedAt: Double
    /// When a deployment last checked the source (and found it unchanged, or installed this version).
    public var lastChecked: Double

    public init(
        resourceId: String,
        version: String,
        source: String,
        validator: ResourceFetcher.Validator,
        sha256: String?,
        packageBytes: Int64,
        unpackedBytes: Int64,
        entries: Int,
        owner: ResourceOwner?,
        installedAt: Double,
        lastChecked: Double
    ) {
        self.resourceId = resourceId
        self.version = version
        self.source = source
        self.validator = validator
        self.sha256 = sha256
        self.packageBytes = packageBytes
        self.unpackedBytes = unpackedBytes
        self.entries = entries
        self.owner = owner
        self.installedAt = installedAt
        self.lastChecked = lastChecked
    }
}
