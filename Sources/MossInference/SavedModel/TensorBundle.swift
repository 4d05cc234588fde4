import SwiftProtobuf

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A TensorFlow checkpoint ("tensor bundle"): `PREFIX.index`, a LevelDB-style table mapping tensor names to
/// BundleEntryProtos, and `PREFIX.data-NNNNN-of-MMMMM` shards holding the raw little-endian bytes.
/// Every block and every tensor read is checked against its masked CRC32C.
final class TensorBundle {
    private let prefix: String
    private let entries: [String: Tensorflow_BundleEntryProto]
    private let shardCount: Int
    /// Shards read so far: a model's variables share one or a few files, read once each.
    private var shards: [Int: [UInt8]] = [:]

    /// The tensor names in the bundle.
    var names: [String] { entries.keys.sorted() }

    init(prefix: String) throws(InferenceError) {
        self.prefix = prefix
        let indexPath = prefix + ".index"
        let bytes = try Self.read(indexPath)
        var table: [String: [UInt8]]
        do {
            table = try SSTable.entries(of: bytes)
        } catch {
            throw InferenceError(.invalidModel, "\(indexPath): \(error.message)")
        }
        guard let headerBytes = table.removeValue(forKey: "") else {
            throw InferenceError(.invalidModel, "\(indexPath): no bundle header")
        }
        let header: Tensorflow_BundleHeaderProto
        do {
            header = try Tensorflow_BundleHeaderProto(serializedBytes: headerBytes)
        } catch {
            throw InferenceError(.invalidModel, "\(indexPath): unreadable bundle header (\(error))")
        }
        guard header.endianness == .little else {
            throw InferenceError(.invalidModel, "\(indexPath): big-endian bundles are not supported")
        }
        shardCount = Int(header.numShards)
        var entries: [String: Tensorflow_BundleEntryProto] = [:]
        for (name, value) in table {
            do {
                entries[name] = try Tensorflow_BundleEntryProto(serializedBytes: value)
            } catch {
                throw InferenceError(.invalidModel, "\(indexPath): unreadable entry '\(name)' (\(error))")
            }
        }
        self.entries = entries
    }

    /// Reads a tensor and checks its CRC.
    func tensor(named name: String) throws(InferenceError) -> Tensor {
        guard let entry = entries[name] else {
            throw InferenceError(.invalidModel, "\(prefix).index has no tensor '\(name)'")
        }
        guard entry.slices.isEmpty else {
            throw InferenceError(.unsupportedOperator, "partitioned variable '\(name)' is not supported")
        }
        let shardPath = prefix + ".data-" + Self.fiveDigits(Int(entry.shardID)) + "-of-" + Self.fiveDigits(shardCount)
        let shard: [UInt8]
        if let cached = shards[Int(entry.shardID)] {
            shard = cached
        } else {
            shard = try Self.read(shardPath)
            shards[Int(entry.shardID)] = shard
        }
        let start = Int(entry.offset)
        let end = start + Int(entry.size)
        guard start >= 0, end <= shard.count else {
            throw InferenceError(
                .invalidModel,
                "\(shardPath): '\(name)' lies outside the file (\(start)..<\(end) of \(shard.count))"
            )
        }
        let bytes = shard[start..<end]
        guard CRC32C.masked(CRC32C.checksum(bytes)) == entry.crc32C else {
            throw InferenceError(.invalidModel, "\(shardPath): checksum mismatch for '\(name)'")
        }
        let shape = entry.shape.dim.map { Int($0.size) }
        do {
            return try TensorDecoding.tensor(dtype: entry.dtype, shape: shape, littleEndian: Array(bytes))
        } catch {
            throw InferenceError(error.kind, "variable '\(name)': \(error.message)")
        }
    }

    private static func fiveDigits(_ value: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: Swift.max(0, 5 - digits.count)) + digits
    }

    static func read(_ path: String) throws(InferenceError) -> [UInt8] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw InferenceError(.invalidModel, "\(path): no such file")
        }
        do {
            return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw InferenceError(.invalidModel, "cannot read \(path): \(error)")
        }
    }
}

/// The LevelDB table format as TensorFlow writes it (no compression): footer, index block, data blocks.
enum SSTable {
    struct Failure: Error { let message: String }

    private static let magic: UInt64 = 0xDB47_7524_8B80_FB57
    private static let footerLength = 48

    static func entries(of file: [UInt8]) throws(Failure) -> [String: [UInt8]] {
        guard file.count >= footerLength else { throw Failure(message: "too short for a table (\(file.count) bytes)") }
        var footer = ByteReader(file[(file.count - footerLength)...])
        var storedMagic: UInt64 = 0
        for index in 0..<8 { storedMagic |= UInt64(file[file.count - 8 + index]) << (8 * UInt64(index)) }
        guard storedMagic == magic else { throw Failure(message: "not a table (bad magic number)") }
        _ = try footer.blockHandle()  // metaindex: empty in bundles
        let index = try footer.blockHandle()
        var result: [String: [UInt8]] = [:]
        for (_, handleBytes) in try block(file, index) {
            var reader = ByteReader(handleBytes[...])
            for (key, value) in try block(file, try reader.blockHandle()) { result[key] = value }
        }
        return result
    }

    /// The entries of one block, after checking its trailer (compression type and masked CRC32C).
    private static func block(
        _ file: [UInt8],
        _ handle: (offset: Int, size: Int)
    ) throws(Failure) -> [(String, [UInt8])] {
        let end = handle.offset + handle.size
        guard handle.offset >= 0, end + 5 <= file.count else {
            throw Failure(message: "block \(handle) lies outside the file")
        }
        guard file[end] == 0 else { throw Failure(message: "compressed blocks are not supported (type \(file[end]))") }
        var stored: UInt32 = 0
        for index in 0..<4 { stored |= UInt32(file[end + 1 + index]) << (8 * UInt32(index)) }
        guard CRC32C.masked(CRC32C.checksum(file[handle.offset...end])) == stored else {
            throw Failure(message: "checksum mismatch in the block at offset \(handle.offset)")
        }
        let contents = file[handle.offset..<end]
        guard contents.count >= 4 else { throw Failure(message: "block at offset \(handle.offset) is too short") }
        var restarts = 0
        for index in 0..<4 { restarts |= Int(contents[end - 4 + index]) << (8 * index) }
        let entriesEnd = end - 4 - 4 * restarts
        guard entriesEnd >= handle.offset else {
            throw Failure(message: "bad restart count in the block at offset \(handle.offset)")
        }
        var reader = ByteReader(file[handle.offset..<entriesEnd])
        var entries: [(String, [UInt8])] = []
        var key: [UInt8] = []
        while !reader.isAtEnd {
            let shared = try reader.varint()
            let unshared = try reader.varint()
            let valueLength = try reader.varint()
            guard shared <= key.count else {
                throw Failure(message: "bad key prefix in the block at offset \(handle.offset)")
            }
            key = Array(key[0..<shared]) + (try reader.bytes(unshared))
            entries.append((String(decoding: key, as: UTF8.self), Array(try reader.bytes(valueLength))))
        }
        return entries
    }

    private struct ByteReader {
        var bytes: ArraySlice<UInt8>
        init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

        var isAtEnd: Bool { bytes.isEmpty }

        mutating func varint() throws(Failure) -> Int {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while let byte = bytes.popFirst() {
                result |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return Int(truncatingIfNeeded: result) }
                shift += 7
                guard shift < 64 else { break }
            }
            throw Failure(message: "truncated or overlong varint")
        }

        mutating func bytes(_ count: Int) throws(Failure) -> ArraySlice<UInt8> {
            guard count >= 0, count <= bytes.count else {
                throw Failure(message: "entry runs past the end of its block")
            }
            defer { bytes = bytes.dropFirst(count) }
            return bytes.prefix(count)
        }

        mutating func blockHandle() throws(Failure) -> (offset: Int, size: Int) {
            (try varint(), try varint())
        }
    }
}
