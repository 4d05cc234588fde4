/// The AWS IoT data plane's shadow calls (REST-JSON over HTTPS with SigV4, signing name `iotdata`).
///
/// Documents are passed and returned as the JSON bytes AWS IoT sends: the shadow rules live in MossShadow.
extension AWSClient {
    /// GetThingShadow: the classic shadow, or the named shadow `shadowName`.
    ///
    /// - Throws: ``AWSError`` (`ResourceNotFoundException` when there is no such shadow), or the transport's.
    public func getThingShadow(_ thingName: String, shadowName: String? = nil) async throws -> [UInt8] {
        try await shadowCall("GET", thingName, shadowName, body: [])
    }

    /// UpdateThingShadow with a request document (`{"state":{…}}`); returns the accepted document.
    public func updateThingShadow(
        _ thingName: String,
        shadowName: String? = nil,
        document: [UInt8]
    ) async throws
        -> [UInt8]
    {
        try await shadowCall("POST", thingName, shadowName, body: document)
    }

    /// DeleteThingShadow; returns AWS IoT's answer (`{"version":N,"timestamp":T}`).
    @discardableResult
    public func deleteThingShadow(_ thingName: String, shadowName: String? = nil) async throws -> [UInt8] {
        try await shadowCall("DELETE", thingName, shadowName, body: [])
    }

    private func shadowCall(
        _ method: String,
        _ thingName: String,
        _ shadowName: String?,
        body: [UInt8]
    )
        async throws -> [UInt8]
    {
        let request = try self.request(
            .iotData,
            method: method,
            path: "/things/\(AWSURIEncoding.encode(thingName))/shadow",
            query: shadowName.map { [AWSQueryItem("name", $0)] } ?? [],
            body: body
        )
        return try await send(request, service: .iotData).body
    }
}
