/// A shadow that exists: its sections (never empty: an emptied section is removed) and version.
public struct ShadowDocument: Sendable, Equatable {
    public var desired: NodeObject?
    public var reported: NodeObject?
    public var version: Int64

    public init(desired: NodeObject? = nil, reported: NodeObject? = nil, version: Int64) {
        self.desired = desired
        self.reported = reported
        self.version = version
    }

    /// The stored JSON: `state` as `{"desired":…,"reported":…}` and its `metadata` mirror, plus the state's
    /// size as the limit counts it.
    public struct Serialized: Sendable, Equatable {
        public var state: [UInt8]
        public var metadata: [UInt8]
        /// Compact bytes of desired plus reported (spec §3.6).
        public var stateSize: Int
    }

    public func serialized() -> Serialized {
        var state = JSONWriter()
        var metadata = JSONWriter()
        var size = 0
        state.raw("{")
        metadata.raw("{")
        if let desired {
            state.key("desired")
            let before = state.bytes.count
            desired.writeState(into: &state)
            size += state.bytes.count - before
            metadata.key("desired")
            desired.writeMetadata(into: &metadata)
        }
        if let reported {
            if desired != nil {
                state.raw(",")
                metadata.raw(",")
            }
            state.key("reported")
            let before = state.bytes.count
            reported.writeState(into: &state)
            size += state.bytes.count - before
            metadata.key("reported")
            reported.writeMetadata(into: &metadata)
        }
        state.raw("}")
        metadata.raw("}")
        return Serialized(state: state.bytes, metadata: metadata.bytes, stateSize: size)
    }

    /// Rebuilds a document from stored JSON; nil when the bytes are not a document this code wrote.
    public static func deserialize(state: [UInt8], metadata: [UInt8], version: Int64) -> ShadowDocument? {
        guard case .object(let stateObject)? = try? JSONParser.parse(state),
            case .object(let metadataObject)? = try? JSONParser.parse(metadata)
        else { return nil }
        var document = ShadowDocument(version: version)
        for (key, value) in stateObject {
            guard let mirror = metadataObject[key], case .object(let node)? = ShadowNode.zip(state: value, metadata: mirror)
            else { return nil }
            switch key {
            case "desired": document.desired = node
            case "reported": document.reported = node
            default: return nil
            }
        }
        return document
    }

    /// The current delta, or nil when desired and reported agree.
    public var delta: NodeObject? { ShadowMerge.delta(desired: desired, reported: reported) }
}
