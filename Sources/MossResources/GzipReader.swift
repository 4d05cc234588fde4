import CMossZlib
import Foundation

/// Decompresses a gzip file as a stream of chunks (zlib's inflate with gzip framing), so a large package never
/// sits in memory whole.
final class GzipReader {
    private let file: FileHandle
    private let path: String
    private var stream = z_stream()
    private var input: [UInt8] = []
    private var inputOffset = 0
    private var finished = false

    init(path: String) throws(ResourceError) {
        self.path = path
        guard let file = FileHandle(forReadingAtPath: path) else {
            throw ResourceError(.installFailed, "Could not open the downloaded package \(path)")
        }
        self.file = file
        // 15 + 16: a 32 KiB window with gzip's header and trailer.
        guard inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw ResourceError(.installFailed, "zlib could not be initialised")
        }
    }

    deinit {
        inflateEnd(&stream)
        try? file.close()
    }

    /// Up to `capacity` decompressed bytes; an empty array once the stream has ended.
    func read(upTo capacity: Int) throws(ResourceError) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: capacity)
        var produced = 0
        while produced < capacity && !finished {
            if inputOffset == input.count {
                let data: Data
                do {
                    // nil at the end of the file.
                    data = try file.read(upToCount: 64 * 1024) ?? Data()
                } catch {
                    throw ResourceError(.installFailed, "Could not read the downloaded package \(path): \(error)")
                }
                guard !data.isEmpty else {
                    throw ResourceError(.archiveCorrupt, "The gzip stream ends early: the package is truncated")
                }
                input = Array(data)
                inputOffset = 0
            }
            let available = input.count - inputOffset
            let status: Int32 = input.withUnsafeMutableBufferPointer { inBuffer in
                output.withUnsafeMutableBufferPointer { outBuffer in
                    stream.next_in = inBuffer.baseAddress! + inputOffset
                    stream.avail_in = UInt32(available)
                    stream.next_out = outBuffer.baseAddress! + produced
                    stream.avail_out = UInt32(capacity - produced)
                    return inflate(&stream, Z_NO_FLUSH)
                }
            }
            inputOffset += available - Int(stream.avail_in)
            produced = capacity - Int(stream.avail_out)
            switch status {
            case Z_OK, Z_BUF_ERROR: continue
            case Z_STREAM_END: finished = true
            default:
                let message = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                throw ResourceError(.archiveCorrupt, "The package is not valid gzip data: \(message)")
            }
        }
        return Array(output[..<produced])
    }
}
