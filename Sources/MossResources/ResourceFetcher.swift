public import AsyncHTTPClient
import NIOSSL
import Synchronization
import Foundation
public import MossAWS
import NIOCore
import NIOHTTP1

/// Fetches a resource's package to a local file: S3 (signed, conditional on the ETag), a SageMaker training job's
/// artefact, https (conditional on the ETag when the server sends one), or a local file. The service-role policy is
/// checked before any request; the SHA-256 is computed on the way.
public struct ResourceFetcher: Sendable {
    /// What the installed version was fetched from, so an unchanged source is not fetched again.
    public struct Validator: Sendable, Hashable, Codable {
        /// The concrete location: the S3 object (a training job's artefact resolved), URL or path.
        public var origin: String
        /// The S3 or HTTP ETag, or a local file's size and modification time.
        public var etag: String?

        public init(origin: String, etag: String?) {
            self.origin = origin
            self.etag = etag
        }
    }

    /// A package on local disk, ready to unpack.
    public struct Package: Sendable, Hashable {
        /// The downloaded file, or a local source directory (unpacked by copying).
        public var path: String
        public var validator: Validator
        /// Lowercase hex; nil for a directory source.
        public var sha256: String?
        public var bytes: Int64
    }

    public enum Outcome: Sendable, Hashable {
        /// The source still has the installed version's ETag; nothing was downloaded.
        case unchanged(Validator)
        case fetched(Package)
    }

    let policy: ResourcePolicy
    /// Resolved only when an AWS source needs it, so groups without one need no credentials.
    let aws: @Sendable () throws(ResourceError) -> AWSClient
    let progress: ResourceProgress
    /// For https sources; ``downloadClient`` in the daemon.
    let httpClient: HTTPClient

    public init(
        policy: ResourcePolicy,
        progress: ResourceProgress,
        httpClient: HTTPClient,
        aws: @escaping @Sendable () throws(ResourceError) -> AWSClient
    ) {
        self.policy = policy
        self.progress = progress
        self.httpClient = httpClient
        self.aws = aws
    }

    /// The HTTP client for downloads (https sources and the AWS client's): a source that cannot be reached fails
    /// at once instead of being retried until the download's one-hour deadline, and a transfer that stalls for a
    /// minute fails. Process-wide and never shut down, like `HTTPClient.shared`.
    public static let downloadClient: HTTPClient = makeDownloadClient()

    /// The download client that also trusts the CA certificates in the PEM file `trustedCertificates` (besides the
    /// system's), for model servers behind a company CA. One per file for the process's life, as ``downloadClient``:
    /// an HTTPClient must be shut down before it is released, and these never are.
    public static func downloadClient(trustingCertificatesIn trustedCertificates: String) -> HTTPClient {
        trustingClients.withLock { clients in
            if let client = clients[trustedCertificates] { return client }
            let client = makeDownloadClient(trustedCertificates: trustedCertificates)
            clients[trustedCertificates] = client
            return client
        }
    }

    private static let trustingClients = Mutex<[String: HTTPClient]>([:])

    private static func makeDownloadClient(trustedCertificates: String? = nil) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(15)
        configuration.timeout.read = .seconds(60)
        if let trustedCertificates {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.additionalTrustRoots = [.file(trustedCertificates)]
            configuration.tlsConfiguration = tls
        }
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Fetches `source` into the file `download` (which must not exist), unless it is unchanged since `installed`.
    public func fetch(
        _ source: ResourceSource,
        resourceId: String,
        installed: Validator?,
        to download: String
    ) async throws(ResourceError) -> Outcome {
        switch source {
        case .s3(let location):
            try policy.checkRead(location)
            return try await fetchS3(location, resourceId: resourceId, installed: installed, to: download)
        case .sageMakerTrainingJob(let arn):
            try policy.checkDescribe(trainingJob: arn)
            let client = try aws()
            let job: SageMakerTrainingJob
            do {
                job = try await client.describeTrainingJob(arn)
            } catch {
                throw Self.failure(error, source: arn)
            }
            guard let location = job.modelLocation else {
                throw ResourceError(
                    .sourceRefused,
                    "The SageMaker training job \(arn) has no model artefact yet (status \(job.trainingJobStatus ?? "unknown"))"
                )
            }
            // The artefact is read with the same rule as any S3 source.
            try policy.checkRead(location)
            return try await fetchS3(location, resourceId: resourceId, installed: installed, to: download)
        case .https(let url):
            return try await fetchHTTPS(url, resourceId: resourceId, installed: installed, to: download)
        case .file(let path):
            return try fetchFile(path, installed: installed, to: download)
        }
    }

    private func fetchS3(
        _ location: S3Location,
        resourceId: String,
        installed: Validator?,
        to download: String
    ) async throws(ResourceError) -> Outcome {
        let client = try aws()
        let origin = location.description
        let known = installed?.origin == origin ? installed?.etag : nil
        let sink = try DownloadSink(path: download)
        progress.begin(resourceId, source: origin)
        defer { progress.finish(resourceId) }
        let result: S3GetObjectResult
        do {
            result = try await client.getObject(
                location,
                ifNoneMatch: known,
                contentLength: { progress.setTotal(resourceId, $0) },
                streamingBodyTo: { chunk in
                    try sink.write(chunk)
                    progress.add(resourceId, bytes: chunk.readableBytes)
                }
            )
        } catch {
            sink.abandon()
            throw Self.failure(error, source: origin)
        }
        switch result {
        case .notModified(let etag):
            sink.abandon()
            return .unchanged(Validator(origin: origin, etag: etag))
        case .downloaded(let metadata):
            return .fetched(try sink.finish(validator: Validator(origin: origin, etag: metadata.etag)))
        }
    }

    private func fetchHTTPS(
        _ url: String,
        resourceId: String,
        installed: Validator?,
        to download: String
    ) async throws(ResourceError) -> Outcome {
        var request = HTTPClientRequest(url: url)
        if installed?.origin == url, let etag = installed?.etag {
            request.headers.add(name: "If-None-Match", value: etag)
        }
        let sink = try DownloadSink(path: download)
        progress.begin(resourceId, source: url)
        defer { progress.finish(resourceId) }
        do {
            let response = try await httpClient.execute(request, timeout: .hours(1))
            switch response.status.code {
            case 304:
                sink.abandon()
                return .unchanged(Validator(origin: url, etag: installed?.etag))
            case 200..<300:
                progress.setTotal(resourceId, response.headers.first(name: "Content-Length").flatMap { Int64($0) })
                for try await chunk in response.body {
                    try sink.write(chunk)
                    progress.add(resourceId, bytes: chunk.readableBytes)
                }
                return .fetched(
                    try sink.finish(validator: Validator(origin: url, etag: response.headers.first(name: "ETag")))
                )
            case 404, 410:
                throw ResourceError(
                    .sourceNotFound,
                    "\(url) answered \(response.status.code) \(response.status.reasonPhrase)"
                )
            case 401, 403:
                throw ResourceError(
                    .sourceRefused,
                    "\(url) answered \(response.status.code) \(response.status.reasonPhrase)"
                )
            default:
                throw ResourceError(
                    .downloadFailed,
                    "\(url) answered \(response.status.code) \(response.status.reasonPhrase)"
                )
            }
        } catch let error as ResourceError {
            sink.abandon()
            throw error
        } catch {
            sink.abandon()
            throw ResourceError(.downloadFailed, "Could not download \(url): \(error)")
        }
    }

    private func fetchFile(_ path: String, installed: Validator?, to download: String) throws(ResourceError) -> Outcome
    {
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: path)
        } catch {
            throw ResourceError(.sourceNotFound, "The local source \(path) does not exist or cannot be read")
        }
        if attributes[.type] as? FileAttributeType == .typeDirectory {
            return .fetched(Package(path: path, validator: Validator(origin: path, etag: nil), sha256: nil, bytes: 0))
        }
        let size = (attributes[.size] as? NSNumber)?.int64Value ?? 0
        let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        let etag = "\(size)-\(modified)"
        if let installed, installed.origin == path, installed.etag == etag { return .unchanged(installed) }
        guard let input = FileHandle(forReadingAtPath: path) else {
            throw ResourceError(.sourceNotFound, "The local source \(path) cannot be read")
        }
        defer { try? input.close() }
        let sink = try DownloadSink(path: download)
        do {
            while let data = try input.read(upToCount: 1 << 20), !data.isEmpty { try sink.write(data) }
        } catch {
            sink.abandon()
            throw ResourceError(.installFailed, "Could not copy \(path): \(error)")
        }
        return .fetched(try sink.finish(validator: Validator(origin: path, etag: etag)))
    }

    /// An AWS or transport error as the deployment reports it.
    static func failure(_ error: any Error, source: String) -> ResourceError {
        if let error = error as? ResourceError { return error }
        guard let error = error as? AWSError else {
            return ResourceError(.downloadFailed, "Could not reach AWS for \(source): \(error)")
        }
        switch error.code {
        case "NoSuchKey", "NoSuchBucket", "404", "NotFound":
            return ResourceError(.sourceNotFound, "\(source) does not exist: \(error.code) (\(error.message))")
        case "ValidationException" where error.service == "sagemaker":
            return ResourceError(.sourceNotFound, "\(source) was not found: \(error.message)")
        case "AccessDenied", "SignatureDoesNotMatch", "InvalidAccessKeyId", "InvalidToken", "ExpiredToken",
            "UnrecognizedClientException", "InvalidSignatureException", "AccessDeniedException", "403":
            return ResourceError(
                .sourceRefused,
                "AWS refused the request for \(source): \(error.code) (\(error.message)); check the credentials Moss "
                    + "runs with (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or ~/.aws/credentials) and their permissions"
            )
        default:
            return ResourceError(
                .downloadFailed,
                "AWS answered \(error.status) \(error.code) for \(source): \(error.message)"
            )
        }
    }
}
