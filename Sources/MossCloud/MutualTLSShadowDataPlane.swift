import AsyncHTTPClient
public import MossAWS
public import MossShadow
import NIOCore
import NIOHTTP1
public import NIOSSL
public import ServiceLifecycle

/// The IoT data plane's shadow calls over mutual TLS with the core's certificate (what Greengrass V2's ShadowManager
/// does): no AWS credentials, only the certificate the MQTT connection already uses. AWS IoT serves it on port 8443.
///
/// A `Service` only to close its HTTP client when the daemon stops.
public final class MutualTLSShadowDataPlane: ShadowDataPlane, Service, CustomStringConvertible {
    private let client: HTTPClient
    private let endpoint: AWSEndpoint
    private let timeout: Duration

    public var description: String { "MutualTLSShadowDataPlane" }

    /// - Parameter tls: the client configuration with the core's certificate and key (``CloudTLS/configuration(for:alpn:)``).
    public init(endpoint: AWSEndpoint, tls: TLSConfiguration, timeout: Duration = .seconds(20)) {
        self.endpoint = endpoint
        self.timeout = timeout
        self.client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
    }

    public func run() async throws {
        try? await gracefulShutdown()
        try await client.shutdown()
    }

    public func get(_ key: ShadowKey) async throws -> [UInt8]? {
        let (status, body) = try await call(.GET, key, body: [])
        return status == 404 ? nil : body
    }

    public func update(_ key: ShadowKey, document: [UInt8]) async throws -> [UInt8] {
        let (status, body) = try await call(.POST, key, body: document)
        if status == 409 { throw ShadowDataPlaneConflict() }
        if status == 404 { throw AWSError(service: "iotdata", status: status, headers: [], body: body) }
        return body
    }

    public func delete(_ key: ShadowKey) async throws {
        _ = try await call(.DELETE, key, body: [])
    }

    /// The status and body of a 2xx, 404 or 409; any other status is thrown as ``AWSError``.
    private func call(_ method: HTTPMethod, _ key: ShadowKey, body: [UInt8]) async throws -> (Int, [UInt8]) {
        var url = "\(endpoint)/things/\(AWSURIEncoding.encode(key.thing))/shadow"
        if let name = key.name { url += "?name=\(AWSURIEncoding.encode(name))" }
        var request = HTTPClientRequest(url: url)
        request.method = method
        if !body.isEmpty {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let limit = timeout.components
        let response = try await client.execute(
            request,
            timeout: .nanoseconds(limit.seconds * 1_000_000_000 + limit.attoseconds / 1_000_000_000)
        )
        let status = Int(response.status.code)
        let bytes = Array(buffer: try await response.body.collect(upTo: 1 << 20))
        guard (200..<300).contains(status) || status == 404 || status == 409 else {
            let headers = response.headers.map { AWSHeader($0.name, $0.value) }
            throw AWSError(service: "iotdata", status: status, headers: headers, body: bytes)
        }
        return (status, bytes)
    }
}
