import CMossZlib
import Foundation
import ZIPFoundation

/// Archives built in the tests, so every refusal is tested against exactly the bytes that should cause it.
enum TestArchives {
    /// One tar member: name, type flag, content or link target, mode.
    struct TarEntry {
        var name: String
        var type: Character = "0"
        var content: [UInt8] = []
        var link: String = ""
        var mode: Int = 0o644
    }

    /// A ustar archive (no compression) with valid checksums, ending in two zero blocks.
    static func tar(_ entries: [TarEntry]) -> [UInt8] {
        var out: [UInt8] = []
        for entry in entries {
            var header = [UInt8](repeating: 0, count: 512)
            func put(_ text: String, at offset: Int, width: Int) {
                for (index, byte) in text.utf8.prefix(width).enumerated() { header[offset + index] = byte }
            }
            func octal(_ value: Int, at offset: Int, width: Int) {
                put(String(value, radix: 8).leftPadded(to: width - 1) + "\0", at: offset, width: width)
            }
            put(entry.name, at: 0, width: 100)
            octal(entry.mode, at: 100, width: 8)
            octal(0, at: 108, width: 8)
            octal(0, at: 116, width: 8)
            octal(entry.type == "0" ? entry.content.count : 0, at: 124, width: 12)
            octal(0, at: 136, width: 12)
            header[156] = UInt8(ascii: entry.type.unicodeScalars.first!)
            put(entry.link, at: 157, width: 100)
            put("ustar\0", at: 257, width: 6)
            put("00", at: 263, width: 2)
            for index in 148..<156 { header[index] = 32 }
            let sum = header.reduce(0) { $0 + Int($1) }
            put(String(sum, radix: 8).leftPadded(to: 6) + "\0 ", at: 148, width: 8)
            out += header
            if entry.type == "0" {
                out += entry.content
                out += [UInt8](repeating: 0, count: (512 - entry.content.count % 512) % 512)
            }
        }
        return out + [UInt8](repeating: 0, count: 1024)
    }

    /// gzip framing (zlib's deflate, window bits 15 + 16).
    static func gzip(_ bytes: [UInt8]) -> [UInt8] {
        var stream = z_stream()
        deflateInit2_(
            &stream,
            6,
            Z_DEFLATED,
            31,
            8,
            Z_DEFAULT_STRATEGY,
            ZLIB_VERSION,
            Int32(MemoryLayout<z_stream>.size)
        )
        defer { deflateEnd(&stream) }
        var input = bytes
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(bytes.count))) + 64)
        let produced = input.withUnsafeMutableBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer in
                stream.next_in = inBuffer.baseAddress
                stream.avail_in = UInt32(inBuffer.count)
                stream.next_out = outBuffer.baseAddress
                stream.avail_out = UInt32(outBuffer.count)
                deflate(&stream, Z_FINISH)
                return outBuffer.count - Int(stream.avail_out)
            }
        }
        return Array(output[..<produced])
    }

    /// A zip entry: a path, its type, and its content or link target.
    struct ZipEntry {
        var path: String
        var type: Entry.EntryType = .file
        var content: [UInt8] = []
    }

    /// A zip written by ZIPFoundation (deflated), at `path`.
    static func zip(_ entries: [ZipEntry], at path: String) throws {
        let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .create)
        for entry in entries {
            let data = Data(entry.content)
            try archive.addEntry(
                with: entry.path,
                type: entry.type,
                uncompressedSize: Int64(data.count),
                compressionMethod: entry.type == .file ? .deflate : .none,
                provider: { position, size in data.subdata(in: Int(position)..<Int(position) + size) }
            )
        }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
