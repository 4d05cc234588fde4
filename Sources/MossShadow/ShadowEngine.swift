/// What is known of a shadow: it exists (with its serialized form, kept so it is written only once per change),
/// or it was deleted (its last version is kept so a re-created shadow continues the sequence).
public enum StoredShadowState: Sendable, Equatable {
    case live(ShadowDocument, ShadowDocument.Serialized)
    case deleted(version: Int64, deletedAt: Int64)

    public static func live(_ document: ShadowDocument) -> StoredShadowState {
        .live(document, document.serialized())
    }

    public var document: ShadowDocument? {
        if case .live(let document, _) = self { return document }
        return nil
    }
}

/// The notifications an accepted update publishes besides its reply (spec §2.2).
public enum ShadowNotification: Sendable, Hashable {
    case delta([UInt8])
    case documents([UInt8])
}

/// The result of one request against one shadow.
public enum ShadowOutcome: Sendable, Equatable {
    /// `reply` is the accepted document; `newState` is what to store (nil for a get).
    case accepted(reply: [UInt8], notifications: [ShadowNotification], newState: StoredShadowState?, clientToken: String?)
    /// `reply` is the error document (`{"code","message","timestamp"?,"clientToken"?}`).
    case rejected(ShadowError, reply: [UInt8])

    public var reply: [UInt8] {
        switch self {
        case .accepted(let reply, _, _, _), .rejected(_, let reply): reply
        }
    }
}

/// The Device Shadow rules (spec §2–§7) as pure functions of a shadow's stored state, a request and the time.
public struct ShadowEngine: Sendable {
    public var limits: ShadowLimits

    public init(limits: ShadowLimits = ShadowLimits()) {
        self.limits = limits
    }

    // MARK: Get

    public func get(_ key: ShadowKey, current: StoredShadowState?, payload: [UInt8], now: Int64) -> ShadowOutcome {
        let token = Self.lenientClientToken(payload, limit: limits.maximumClientTokenBytes)
        if let problem = key.validate(limits) { return reject(problem, token: token, now: now) }
        guard case .live(let document, let serialized)? = current else {
            return reject(.notFound(key.notFoundName), token: token, now: now)
        }
        var writer = JSONWriter(reservingCapacity: serialized.state.count * 2 + serialized.metadata.count + 64)
        writer.raw("{\"state\":")
        if let delta = document.delta {
            // The stored state with "delta" added before its closing brace.
            writer.append(json: Array(serialized.state.dropLast()))
            if serialized.state.count > 2 { writer.raw(",") }
            writer.key("delta")
            delta.writeState(into: &writer)
            writer.raw("}")
        } else {
            writer.append(json: serialized.state)
        }
        writer.raw(",\"metadata\":")
        writer.append(json: serialized.metadata)
        writeTail(version: document.version, now: now, token: token, into: &writer)
        return .accepted(reply: writer.bytes, notifications: [], newState: nil, clientToken: token)
    }

    // MARK: Delete

    public func delete(_ key: ShadowKey, current: StoredShadowState?, payload: [UInt8], now: Int64) -> ShadowOutcome {
        let token = Self.lenientClientToken(payload, limit: limits.maximumClientTokenBytes)
        if let problem = key.validate(limits) { return reject(problem, token: token, now: now) }
        guard case .live(let document, _)? = current else {
            return reject(.notFound(key.notFoundName), token: token, now: now)
        }
        var writer = JSONWriter(reservingCapacity: 64)
        writer.raw("{\"version\":")
        writer.write(integer: document.version)
        writer.raw(",\"timestamp\":")
        writer.write(integer: now)
        if let token {
            writer.raw(",\"clientToken\":")
            writer.write(string: token)
        }
        writer.raw("}")
        return .accepted(
            reply: writer.bytes,
            notifications: [],
            newState: .deleted(version: document.version, deletedAt: now),
            clientToken: token
        )
    }

    // MARK: Update

    public func update(_ key: ShadowKey, current: StoredShadowState?, payload: [UInt8], now: Int64) -> ShadowOutcome {
        let request: UpdateRequest
        switch parseUpdate(payload) {
        case .success(let parsed): request = parsed
        case .failure(let failure): return reject(failure.error, token: failure.token, now: now)
        }
        let token = request.clientToken
        if let problem = key.validate(limits) { return reject(problem, token: token, now: now) }

        // Optimistic locking (spec §6). A version on a shadow that does not exist is a conflict (docs/shadows.md).
        let previous = current?.document
        if let expected = request.version, expected != previous?.version {
            return reject(.versionConflict, token: token, now: now)
        }

        var document = previous ?? ShadowDocument(version: 0)
        switch request.state {
        case .null:
            document.desired = nil
            document.reported = nil
        case .object(let sections):
            for (section, value) in sections {
                let patch = value.objectValue
                if section == "desired" {
                    document.desired = patch.flatMap { ShadowMerge.merge($0, into: document.desired, at: now) }
                } else {
                    document.reported = patch.flatMap { ShadowMerge.merge($0, into: document.reported, at: now) }
                }
            }
        default:
            preconditionFailure("parseUpdate admits only an object or null state")
        }
        let serialized = document.serialized()
        guard serialized.stateSize <= limits.maximumStateBytes else {
            return reject(.payloadTooLarge, token: token, now: now)
        }
        document.version = nextVersion(after: current, now: now)

        var accepted = JSONWriter(reservingCapacity: payload.count * 2 + 64)
        accepted.raw("{\"state\":")
        accepted.write(request.state)
        accepted.raw(",\"metadata\":")
        ShadowMerge.writeRequestMetadata(request.state, at: now, into: &accepted)
        writeTail(version: document.version, now: now, token: token, into: &accepted)

        var notifications: [ShadowNotification] = []
        if let delta = document.delta {
            var writer = JSONWriter()
            writer.raw("{\"state\":")
            delta.writeState(into: &writer)
            writer.raw(",\"metadata\":")
            delta.writeMetadata(into: &writer)
            writeTail(version: document.version, now: now, token: token, into: &writer)
            notifications.append(.delta(writer.bytes))
        }
        var documents = JSONWriter(reservingCapacity: 2 * (serialized.state.count + serialized.metadata.count) + 128)
        documents.raw("{")
        if case .live(let old, let oldSerialized)? = current {
            documents.raw("\"previous\":")
            writeSnapshot(oldSerialized, version: old.version, into: &documents)
            documents.raw(",")
        }
        documents.raw("\"current\":")
        writeSnapshot(serialized, version: document.version, into: &documents)
        documents.raw(",\"timestamp\":")
        documents.write(integer: now)
        if let token {
            documents.raw(",\"clientToken\":")
            documents.write(string: token)
        }
        documents.raw("}")
        notifications.append(.documents(documents.bytes))

        return .accepted(
            reply: accepted.bytes,
            notifications: notifications,
            newState: .live(document, serialized),
            clientToken: token
        )
    }

    /// A new shadow starts at 1, or continues two past a recently deleted one (the delete consumed a number).
    private func nextVersion(after current: StoredShadowState?, now: Int64) -> Int64 {
        switch current {
        case .live(let document, _)?: document.version + 1
        case .deleted(let version, let deletedAt)? where now - deletedAt < limits.tombstoneLifetimeSeconds: version + 2
        default: 1
        }
    }

    // MARK: Request validation (spec §3.1, in its order)

    struct UpdateRequest {
        var state: JSONValue
        var version: Int64?
        var clientToken: String?
    }

    struct RequestFailure: Error {
        var error: ShadowError
        var token: String?
    }

    func parseUpdate(_ payload: [UInt8]) -> Result<UpdateRequest, RequestFailure> {
        let root: JSONObject
        do {
            guard case .object(let object) = try JSONParser.parse(payload) else {
                return .failure(RequestFailure(error: .invalidJSON(), token: nil))
            }
            root = object
        } catch .notUTF8 {
            return .failure(RequestFailure(error: .unsupportedEncoding, token: nil))
        } catch .tooDeep {
            return .failure(RequestFailure(error: .tooDeep(maximum: limits.maximumDepth), token: nil))
        } catch {
            return .failure(RequestFailure(error: .invalidJSON(), token: nil))
        }

        var token: String?
        if let value = root["clientToken"] {
            guard case .string(let text) = value, text.utf8.count <= limits.maximumClientTokenBytes else {
                return .failure(RequestFailure(error: .invalidClientToken, token: nil))
            }
            token = text
        }
        func fail(_ error: ShadowError) -> Result<UpdateRequest, RequestFailure> {
            .failure(RequestFailure(error: error, token: token))
        }

        guard let state = root["state"] else { return fail(.missingState) }
        switch state {
        case .null:
            break
        case .object(let sections):
            for (section, value) in sections {
                guard section == "desired" || section == "reported" else { return fail(.invalidStateNode(section)) }
                switch value {
                case .null, .object: break
                default: return fail(section == "desired" ? .desiredNotObject : .reportedNotObject)
                }
            }
        default:
            return fail(.stateNotObject)
        }

        var version: Int64?
        if let value = root["version"] {
            guard case .number(let number) = value, let integer = number.int64Value, integer >= 0 else {
                return fail(.invalidVersion)
            }
            version = integer
        }

        if case .object(let sections) = state {
            for (_, value) in sections where ShadowMerge.depth(of: value) > limits.maximumDepth {
                return fail(.tooDeep(maximum: limits.maximumDepth))
            }
        }
        if ShadowMerge.containsNullInArray(state) {
            return fail(.invalidJSON("null is not allowed in an array"))
        }
        return .success(UpdateRequest(state: state, version: version, clientToken: token))
    }

    /// The clientToken of a get or delete, whose payload is otherwise ignored (spec §2.1, §2.3): anything that is
    /// not an object with a valid token is treated as no token.
    static func lenientClientToken(_ payload: [UInt8], limit: Int) -> String? {
        guard !payload.isEmpty, case .object(let root)? = try? JSONParser.parse(payload),
            case .string(let token)? = root["clientToken"], token.utf8.count <= limit
        else { return nil }
        return token
    }

    // MARK: Documents

    /// The error document of spec §8.1.
    public func errorDocument(_ error: ShadowError, token: String?, now: Int64) -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: 96)
        writer.raw("{\"code\":")
        writer.write(integer: Int64(error.code))
        writer.raw(",\"message\":")
        writer.write(string: error.message)
        if error.carriesTimestamp {
            writer.raw(",\"timestamp\":")
            writer.write(integer: now)
        }
        if let token {
            writer.raw(",\"clientToken\":")
            writer.write(string: token)
        }
        writer.raw("}")
        return writer.bytes
    }

    private func reject(_ error: ShadowError, token: String?, now: Int64) -> ShadowOutcome {
        .rejected(error, reply: errorDocument(error, token: token, now: now))
    }

    /// `,"version":N,"timestamp":T[,"clientToken":"…"]}`
    private func writeTail(version: Int64, now: Int64, token: String?, into writer: inout JSONWriter) {
        writer.raw(",\"version\":")
        writer.write(integer: version)
        writer.raw(",\"timestamp\":")
        writer.write(integer: now)
        if let token {
            writer.raw(",\"clientToken\":")
            writer.write(string: token)
        }
        writer.raw("}")
    }

    /// `{"state":…,"metadata":…,"version":N}` for /update/documents.
    private func writeSnapshot(_ serialized: ShadowDocument.Serialized, version: Int64, into writer: inout JSONWriter) {
        writer.raw("{\"state\":")
        writer.append(json: serialized.state)
        writer.raw(",\"metadata\":")
        writer.append(json: serialized.metadata)
        writer.raw(",\"version\":")
        writer.write(integer: version)
        writer.raw("}")
    }
}
