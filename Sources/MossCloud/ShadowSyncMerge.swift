public import MossShadow

/// Which way a shadow syncs (V2 ShadowManager's directions; V1 always synced both ways).
public enum ShadowSyncDirection: String, Sendable, Hashable, Codable {
    case both
    case deviceToCloud
    case cloudToDevice
}

/// The sync's rules as pure functions (docs/shadows.md, "Sync with the cloud"): the three-way merge of the local and
/// cloud shadows against the last state both agreed on, and the update document that turns one state into another.
public enum ShadowSyncMerge {
    /// What both sides should hold; nil when the shadow should not exist.
    ///
    /// `nil` for `local` or `cloud` means that side has no shadow (never had, or deleted); `base` is the last synced
    /// state (nil: never synced, or synced as absent).
    /// - both: a key changed on one side only takes that side's value; changed on both sides, `reported` keeps the
    ///   local value and `desired` the cloud's (objects are merged key by key first). A deletion on one side wins
    ///   only if the other side did not change since the last sync; otherwise the changed shadow is kept.
    /// - deviceToCloud: the local shadow, as it is. cloudToDevice: the cloud's.
    public static func merge(
        base: SyncedState?,
        local: SyncedState?,
        cloud: SyncedState?,
        direction: ShadowSyncDirection
    ) -> SyncedState? {
        switch direction {
        case .deviceToCloud: return local
        case .cloudToDevice: return cloud
        case .both: break
        }
        switch (local, cloud) {
        case (nil, nil):
            return nil
        case (nil, let cloud?):
            return base != nil && cloud == base ? nil : cloud
        case (let local?, nil):
            return base != nil && local == base ? nil : local
        case (let local?, let cloud?):
            return SyncedState(
                desired: mergeObject(base: base?.desired, local: local.desired, cloud: cloud.desired, localWins: false),
                reported: mergeObject(base: base?.reported, local: local.reported, cloud: cloud.reported, localWins: true)
            )
        }
    }

    static func mergeObject(base: JSONObject?, local: JSONObject?, cloud: JSONObject?, localWins: Bool) -> JSONObject? {
        var keys: [String] = []
        var seen: Set<String> = []
        for object in [local, cloud, base] {
            for key in object?.keys ?? [] where seen.insert(key).inserted { keys.append(key) }
        }
        var result = JSONObject()
        for key in keys {
            let (b, l, c) = (base?[key], local?[key], cloud?[key])
            let value: JSONValue?
            if l == c {
                value = l
            } else if l == b {
                value = c
            } else if c == b {
                value = l
            } else if case .object(let localObject)? = l, case .object(let cloudObject)? = c {
                value = mergeObject(base: b?.objectValue, local: localObject, cloud: cloudObject, localWins: localWins)
                    .map(JSONValue.object)
            } else {
                value = localWins ? l : c
            }
            if let value { result[key] = value }
        }
        return result.isEmpty ? nil : result
    }

    /// The `state` of an update request that turns `current` into `target`: changed and added keys with their new
    /// values, removed keys as null (objects compared key by key, arrays as values). Nil when nothing differs.
    public static func patch(from current: SyncedState?, to target: SyncedState) -> JSONObject? {
        var state = JSONObject()
        if let desired = diff(current?.desired, target.desired) { state["desired"] = desired }
        if let reported = diff(current?.reported, target.reported) { state["reported"] = reported }
        return state.isEmpty ? nil : state
    }

    static func diff(_ current: JSONObject?, _ target: JSONObject?) -> JSONValue? {
        var patch = JSONObject()
        for (key, value) in target ?? JSONObject() {
            let old = current?[key]
            guard old != value else { continue }
            if case .object(let oldObject)? = old, case .object(let newObject) = value {
                if let nested = diff(oldObject, newObject) { patch[key] = nested }
            } else {
                patch[key] = value
            }
        }
        for key in current?.keys ?? [] where target?[key] == nil {
            patch[key] = .null
        }
        return patch.isEmpty ? nil : .object(patch)
    }

    /// An update request document for `state`, with `version` for optimistic locking when given.
    public static func updateDocument(state: JSONObject, version: Int64?, clientToken: String) -> [UInt8] {
        var document = JSONObject()
        document["state"] = .object(state)
        if let version { document["version"] = .number(JSONNumber(version)) }
        document["clientToken"] = .string(clientToken)
        return JSONWriter.serialize(.object(document))
    }
}
