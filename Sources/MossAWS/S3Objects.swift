public import Foundation
public import NIOCore

/// What a conditional GetObject found.
public enum S3GetObjectResult: Sendable, Hashable {
    /// The object still has the ETag the caller had (`304 Not Modified`); nothing was downloaded.
    case notModified(etag: String)
    /// The object was downloaded: its body went to the caller's consumer.
    case downloaded(S3ObjectMetadata)
}

/// The headers of a downloaded object that matter for caching and progress.
public struct S3ObjectMetadata: Sendable, Hashable {
    /// The ETag, quotes included, as S3 sends it and as `If-None-Match` wants it back.
    public var etag: String?
    /// `Content-Length`, when sent.
    public var contentLength: Int64?
    /// `Content-Type`, when sent.
    public var contentType: String?
    /// `Last-Modified`, as sent (an HTTP date).
    public var lastModified: String?
}

extension AWSClient {
    /// GetObject: downloads `location` unless its ETag is still `ifNoneMatch`, streaming the body to `consume`.
    /// `contentLength`, when given, learns the object's size (if sent) before the first chunk, for progress.
    ///
    /// - Throws: ``AWSError`` (`NoSuchKey`, `NoSuchBucket`, `AccessDenied`…), or the transport's error.
    public func getObject(
        _ location: S3Location,
        ifNoneMatch etag: String? = nil,
        timeout: Duration = .seconds(3600),
        contentLength: ((Int64?) -> Void)? = nil,
        streamingBodyTo consume: (ByteBuffer) async throws -> Void
    ) async throws -> S3GetObjectResult {
        let (endpoint, path) = try endpoints.s3Location(bucket: location.bucket, key: location.key)
        var request = AWSRequest(method: "GET", endpoint: endpoint, path: path)
        if let etag { request.setHeader("If-None-Match", etag) }
        var head: ((AWSResponse) -> Void)?
        if let contentLength { head = { contentLength($0.header("Content-Length").flatMap { Int64($0) }) } }
        let response = try await send(request, service: .s3, timeout: timeout, head: head, streamingBodyTo: consume)
        if response.status == 304 { return .notModified(etag: response.header("ETag") ?? etag ?? "") }
        return .downloaded(
            S3ObjectMetadata(
                etag: response.header("ETag"),
                contentLength: response.header("Content-Length").flatMap { Int64($0) },
                contentType: response.header("Content-Type"),
                lastModified: response.header("Last-Modified")
            )
        )
    }

    /// GetObject into an open file: the body is written to `file` as it arrives.
    public func getObject(
        _ location: S3Location,
        ifNoneMatch etag: String? = nil,
        timeout: Duration = .seconds(3600),
        writingTo file: FileHandle
    ) async throws -> S3GetObjectResult {
        try await getObject(location, ifNoneMatch: etag, timeout: timeout) { chunk in
            try file.write(contentsOf: Data(chunk.readableBytesView))
        }
    }

    /// PutObject from memory; returns the new ETag. For tests and small objects such as group definitions.
    @discardableResult
    public func putObject(_ location: S3Location, body: [UInt8], contentType: String? = nil) async throws -> String? {
        let (endpoint, path) = try endpoints.s3Location(bucket: location.bucket, key: location.key)
        var request = AWSRequest(method: "PUT", endpoint: endpoint, path: path, body: body)
        if let contentType { request.setHeader("Content-Type", contentType) }
        return try await send(request, service: .s3).header("ETag")
    }

    /// CreateBucket in the client's region (no location constraint in us-east-1, as S3 requires).
    public func createBucket(_ bucket: String) async throws {
        let (endpoint, path) = try endpoints.s3Location(bucket: bucket)
        var body: [UInt8] = []
        if endpoints.region != "us-east-1" {
            body = Array(
                ("<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                    + "<LocationConstraint>\(endpoints.region)</LocationConstraint></CreateBucketConfiguration>").utf8
            )
        }
        _ = try await send(AWSRequest(method: "PUT", endpoint: endpoint, path: path, body: body), service: .s3)
    }
}
