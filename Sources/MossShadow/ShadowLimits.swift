/// The limits a shadow request is checked against; AWS's defaults (spec §9).
public struct ShadowLimits: Sendable, Hashable {
    /// AWS's default state size: desired plus reported, compact JSON, after the merge.
    public static let defaultMaximumStateBytes = 8192
    /// The most Greengrass allows (raising it past 8 KiB also needs the cloud quota raised, for sync).
    public static let largestMaximumStateBytes = 30720

    public var maximumStateBytes: Int
    /// Levels inside desired or reported (spec §3.5).
    public var maximumDepth: Int
    public var maximumThingNameLength: Int
    public var maximumShadowNameLength: Int
    public var maximumClientTokenBytes: Int
    /// How long a deleted shadow's version is remembered, so a re-created one continues the sequence (48 h in AWS).
    public var tombstoneLifetimeSeconds: Int64

    public init(
        maximumStateBytes: Int = defaultMaximumStateBytes,
        maximumDepth: Int = 6,
        maximumThingNameLength: Int = 128,
        maximumShadowNameLength: Int = 64,
        maximumClientTokenBytes: Int = 64,
        tombstoneLifetimeSeconds: Int64 = 48 * 3600
    ) {
        self.maximumStateBytes = maximumStateBytes
        self.maximumDepth = maximumDepth
        self.maximumThingNameLength = maximumThingNameLength
        self.maximumShadowNameLength = maximumShadowNameLength
        self.maximumClientTokenBytes = maximumClientTokenBytes
        self.tombstoneLifetimeSeconds = tombstoneLifetimeSeconds
    }
}
