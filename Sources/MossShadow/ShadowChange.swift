/// A committed change to a shadow, for whatever follows the shadows (the cloud sync).
public struct ShadowChange: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The shadow after the update.
        case updated(ShadowDocument)
        /// The shadow was deleted; `version` was its last version.
        case deleted
    }

    public var key: ShadowKey
    public var version: Int64
    public var timestamp: Int64
    public var kind: Kind
    /// The clientToken of the request that made the change.
    public var clientToken: String?

    public init(key: ShadowKey, version: Int64, timestamp: Int64, kind: Kind, clientToken: String?) {
        self.key = key
        self.version = version
        self.timestamp = timestamp
        self.kind = kind
        self.clientToken = clientToken
    }
}
