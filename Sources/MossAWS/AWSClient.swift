package import AsyncHTTPClient
import Foundation
public import NIOCore
import NIOHTTP1

/// A response from an AWS service that is not an error (2xx, or 304 Not Modified).
public struct AWSResponse: Sendable {
    /// The HTTP status.
    public var status: Int
    /// The header fields, in order.
    public var headers: [AWSHeader]
    /// The body (empty when it was streamed elsewhere).
    public var body: [UInt8]

    /// The first value of the header named `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    /// `x-amz-request-id` or `x-amzn-RequestId`.
    public var requestID: String? { header("x-amz-request-id") ?? header("x-amzn-RequestId") }
}

/// Signs requests with SigV4 and sends them with AsyncHTTPClient; turns error responses into ``AWSError``.
///
/// Generic on purpose: a call is a method, a path, a query, headers and a body for a service. The few typed calls
/// Moss needs (S3 GetObject, SageMaker DescribeTrainingJob, IoT shadows) are thin extensions on top.
public struct AWSClient: Sendable {
    /// The credentials every request is signed with.
    public var credentials: AWSCredentials
    /// Where each service is, and the region requests are signed for.
    public var endpoints: AWSEndpoints
    /// How long a whole request may take, body included, unless a call says otherwise.
    public var timeout: Duration
    private let httpClient: HTTPClient

    /// A client on AsyncHTTPClient's shared `HTTPClient` (nothing to shut down).
    public init(credentials: AWSCredentials, endpoints: AWSEndpoints, timeout: Duration = .seconds(60)) {
        self.init(credentials: credentials, endpoints: endpoints, timeout: timeout, httpClient: .shared)
    }

    /// A client on an `HTTPClient` its caller owns (and shuts down).
    package init(credentials: AWSCredentials, endpoints: AWSEndpoints, timeout: Duration, httpClient: HTTPClient) {
        self.credentials = credentials
        self.endpoints = endpoints
        self.timeout = timeout
        self.httpClient = httpClient
    }

    /// A request to `service`'s endpoint (see ``AWSEndpoints/endpoint(for:)``).
    public func request(
        _ service: AWSService,
        method: String,
        path: String = "/",
        query: [AWSQueryItem] = [],
        headers: [AWSHeader] = [],
        body: [UInt8] = []
    ) throws(AWSConfigurationError) -> AWSRequest {
        AWSRequest(
            method: method,
            endpoint: try endpoints.endpoint(for: service),
            path: path,
            query: query,
            headers: headers,
            body: body
        )
    }

    /// Signs `request` for `service` now, sends it, and returns the whole response.
    ///
    /// - Throws: ``AWSError`` for an error response (any status from 300 up except 304), or the transport's error.
    public func send(
        _ request: AWSRequest,
        service: AWSService,
        payload: SigV4Signer.PayloadSigning = .signed,
        maximumResponseBytes: Int = 16 << 20
    ) async throws -> AWSResponse {
        let response = try await stream(request, service: service, payload: payload, timeout: nil)
        var head = response.head
        head.body = try await response.bodyCollected(upTo: maximumResponseBytes)
        return head
    }

    /// Signs and sends `request`, hands each chunk of a successful body to `consume` as it arrives, and returns the
    /// status and headers. An error response's body is read (up to 1 MiB) to build the thrown ``AWSError`` and never
    /// reaches `consume`. `head`, when given, sees the status and headers before the first chunk (for progress).
    public func send(
        _ request: AWSRequest,
        service: AWSService,
        payload: SigV4Signer.PayloadSigning = .signed,
        timeout: Duration? = nil,
        head: ((AWSResponse) -> Void)? = nil,
        streamingBodyTo consume: (ByteBuffer) async throws -> Void
    ) async throws -> AWSResponse {
        let response = try await stream(request, service: service, payload: payload, timeout: timeout)
        head?(response.head)
        for try await chunk in response.pendingBody { try await consume(chunk) }
        return response.head
    }

    // MARK: Sending

    /// A response whose body has not been read yet.
    private struct PendingResponse {
        var head: AWSResponse
        var pendingBody: HTTPClientResponse.Body

        func bodyCollected(upTo limit: Int) async throws -> [UInt8] {
            Array(buffer: try await pendingBody.collect(upTo: limit))
        }
    }

    private func stream(
        _ request: AWSRequest,
        service: AWSService,
        payload: SigV4Signer.PayloadSigning,
        timeout: Duration?
    ) async throws -> PendingResponse {
        var request = request
        // Sign the Host header AsyncHTTPClient will send (it keeps one that is already there).
        request.setHeader("Host", request.endpoint.hostHeader)
        SigV4Signer(credentials: credentials, region: endpoints.region, service: service.signingName)
            .sign(&request, at: Date(), payload: payload)

        var httpRequest = HTTPClientRequest(url: request.url)
        httpRequest.method = HTTPMethod(rawValue: request.method)
        for header in request.headers { httpRequest.headers.add(name: header.name, value: header.value) }
        if !request.body.isEmpty { httpRequest.body = .bytes(ByteBuffer(bytes: request.body)) }

        let limit = (timeout ?? self.timeout).components
        let nanoseconds = limit.seconds * 1_000_000_000 + limit.attoseconds / 1_000_000_000
        let response = try await httpClient.execute(httpRequest, timeout: .nanoseconds(nanoseconds))
        let status = Int(response.status.code)
        let headers = response.headers.map { AWSHeader($0.name, $0.value) }
        guard (200..<300).contains(status) || status == 304 else {
            let body = Array(buffer: try await response.body.collect(upTo: 1 << 20))
            throw AWSError(service: service.signingName, status: status, headers: headers, body: body)
        }
        return PendingResponse(
            head: AWSResponse(status: status, headers: headers, body: []),
            pendingBody: response.body
        )
    }
}
