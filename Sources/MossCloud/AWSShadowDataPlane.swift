public import MossAWS
public import MossShadow

/// The IoT data plane's shadow calls through MossAWS's client (SigV4 with the `iotdata` signing name).
public struct AWSShadowDataPlane: ShadowDataPlane {
    public let client: AWSClient

    public init(client: AWSClient) {
        self.client = client
    }

    public func get(_ key: ShadowKey) async throws -> [UInt8]? {
        do {
            return try await client.getThingShadow(key.thing, shadowName: key.name)
        } catch let error as AWSError where error.status == 404 {
            return nil
        }
    }

    public func update(_ key: ShadowKey, document: [UInt8]) async throws -> [UInt8] {
        do {
            return try await client.updateThingShadow(key.thing, shadowName: key.name, document: document)
        } catch let error as AWSError where error.status == 409 {
            throw ShadowDataPlaneConflict()
        }
    }

    public func delete(_ key: ShadowKey) async throws {
        do {
            try await client.deleteThingShadow(key.thing, shadowName: key.name)
        } catch let error as AWSError where error.status == 404 {
            return
        }
    }
}
