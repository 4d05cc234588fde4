import Crypto
import Foundation
import NIOCore

/// The file a download is written to, hashed on the way.
final class DownloadSink: @unchecked Sendable {
    // Only touched by the one task that runs the download, one chunk after another.
    private let handle: FileHandle
    private let path: String
    private var hasher = SHA256()
    private var bytes: Int64 = 0

    init(path: String) throws(ResourceError) {
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let handle = FileHandle(forWritingAtPath: path)
        else { throw ResourceError(.installFailed, "Could not create \(path) for the download") }
        self.handle = handle
        self.path = path
    }

    func write(_ chunk: ByteBuffer) throws {
        try chunk.withUnsafeReadableBytes { buffer in
            hasher.update(bufferPointer: buffer)
            try handle.write(contentsOf: buffer)
        }
        bytes += Int64(chunk.readableBytes)
    }

    func write(_ data: Data) throws {
        hasher.update(data: data)
        try handle.write(contentsOf: data)
        bytes += Int64(data.count)
    }

    func finish(validator: ResourceFetcher.Validator) throws(ResourceError) -> ResourceFetcher.Package {
        do {
            try handle.close()
        } catch {
            throw ResourceError(.installFailed, "Could not write \(path): \(error)")
        }
        let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        return ResourceFetcher.Package(path: path, validator: validator, sha256: digest, bytes: bytes)
    }

    func abandon() {
        try? handle.close()
        try? FileManager.default.removeItem(atPath: path)
    }
}
