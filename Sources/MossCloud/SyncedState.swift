public import MossShadow

/// The part of a shadow the sync compares and copies: its desired and reported sections (metadata, versions and
/// timestamps are each side's own).
public struct SyncedState: Sendable, Equatable, CustomStringConvertible {
    public var desired: JSONObject?
    public var reported: JSONObject?

    public init(desired: JSONObject? = nil, reported: JSONObject? = nil) {
        self.desired = desired?.isEmpty == true ? nil : desired
        self.reported = reported?.isEmpty == true ? nil : reported
    }

    /// The state and version of a shadow document as GetThingShadow (or the local service's get) returns it.
    public static func fromDocument(_ bytes: [UInt8]) -> (state: SyncedState, version: Int64)? {
        guard case .object(let document)? = try? JSONParser.parse(bytes),
            case .number(let versionNumber)? = document["version"], let version = versionNumber.int64Value
        else { return nil }
        let state = document["state"]?.objectValue
        return (SyncedState(desired: state?["desired"]?.objectValue, reported: state?["reported"]?.objectValue), version)
    }

    /// `{"desired":…,"reported":…}`, as the sync state stores it.
    public var json: [UInt8] {
        JSONWriter.serialize(.object(object))
    }

    /// Reads what ``json`` wrote.
    public init?(json: [UInt8]) {
        guard case .object(let object)? = try? JSONParser.parse(json) else { return nil }
        self.init(desired: object["desired"]?.objectValue, reported: object["reported"]?.objectValue)
    }

    private var object: JSONObject {
        var object = JSONObject()
        if let desired { object["desired"] = .object(desired) }
        if let reported { object["reported"] = .object(reported) }
        return object
    }

    public var description: String { String(decoding: json, as: UTF8.self) }
}
