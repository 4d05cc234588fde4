/// Caps on what one package may unpack to, so a zip bomb fills neither the disk nor the inode table.
public struct UnpackLimits: Sendable, Hashable {
    /// Bytes of file content after decompression, all entries together.
    public var maximumBytes: Int64
    /// Entries of any kind (files, directories, links).
    public var maximumEntries: Int

    /// 4 GiB and 100 000 entries: far above a model, far below a full disk.
    public init(maximumBytes: Int64 = 4 << 30, maximumEntries: Int = 100_000) {
        self.maximumBytes = maximumBytes
        self.maximumEntries = maximumEntries
    }
}
