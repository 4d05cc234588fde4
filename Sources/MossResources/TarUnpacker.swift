/// Unpacks a tar stream (ustar, GNU long names, pax path/linkpath/size) into an ``UnpackDestination``.
///
/// Written here rather than taken from a library because the rules are the point: every header's checksum is
/// verified, devices, FIFOs and unknown entry types are refused, and content only reaches the disk through the
/// destination's checks.
struct TarUnpacker {
    /// Where decompressed bytes come from: returns up to `count` bytes, empty at the end.
    let read: (Int) throws(ResourceError) -> [UInt8]

    private final class Input {
        let read: (Int) throws(ResourceError) -> [UInt8]
        var buffer: [UInt8] = []
        var offset = 0
        init(_ read: @escaping (Int) throws(ResourceError) -> [UInt8]) { self.read = read }

        /// Exactly `count` bytes, fewer only at the end of the stream.
        func take(_ count: Int) throws(ResourceError) -> ArraySlice<UInt8> {
            while buffer.count - offset < count {
                let more = try read(max(64 * 1024, count))
                if more.isEmpty { break }
                buffer = Array(buffer[offset...]) + more
                offset = 0
            }
            let end = min(buffer.count, offset + count)
            defer { offset = end }
            return buffer[offset..<end]
        }
    }

    func unpack(into destination: UnpackDestination) throws(ResourceError) {
        let input = Input(read)
        var longName: String?
        var longLink: String?
        var pax: [String: String] = [:]
        while true {
            let header = try input.take(512)
            guard header.count == 512 else { throw corrupt("the archive ends inside a header") }
            if header.allSatisfy({ $0 == 0 }) { return }  // end of archive
            let block = Array(header)
            try verifyChecksum(block)
            var size = try number(block[124..<136], field: "size")
            if let paxSize = pax["size"] {
                guard let value = Int64(paxSize), value >= 0 else { throw corrupt("a pax size is not a number") }
                size = value
            }
            let type = block[156]
            let name = longName ?? pax["path"] ?? Self.headerName(block)
            let linkName = longLink ?? pax["linkpath"] ?? Self.string(block[157..<257])
            let padded = (size + 511) / 512 * 512
            switch type {
            case UInt8(ascii: "L"), UInt8(ascii: "K"), UInt8(ascii: "x"), UInt8(ascii: "g"):
                // Metadata for the next entry (or, for "g", all of them, which Moss ignores).
                guard size <= 1 << 20 else { throw corrupt("a long-name or pax header is larger than 1 MiB") }
                let data = try input.take(Int(padded))
                guard data.count == Int(padded) else { throw corrupt("the archive ends inside a header") }
                let content = Array(data.prefix(Int(size)))
                switch type {
                case UInt8(ascii: "L"): longName = Self.string(content[...])
                case UInt8(ascii: "K"): longLink = Self.string(content[...])
                case UInt8(ascii: "x"): pax = try Self.paxRecords(content)
                default: break
                }
                continue
            default:
                break
            }
            longName = nil
            longLink = nil
            pax = [:]
            let path = try ArchivePath(name)
            switch type {
            case UInt8(ascii: "0"), 0, UInt8(ascii: "7"):
                let mode = UInt32(try number(block[100..<108], field: "mode") & 0o7777)
                var remaining = size
                try destination.file(path, mode: mode) { write in
                    while remaining > 0 {
                        let chunk = try input.take(Int(min(remaining, 64 * 1024)))
                        guard !chunk.isEmpty else { throw corrupt("the archive ends inside \(path)") }
                        remaining -= Int64(chunk.count)
                        try chunk.withUnsafeBytes { try write($0) }
                    }
                }
                _ = try input.take(Int(padded - size))
            case UInt8(ascii: "5"):
                try destination.directory(path)
                _ = try input.take(Int(padded))
            case UInt8(ascii: "2"):
                try destination.symbolicLink(path, target: linkName)
            case UInt8(ascii: "1"):
                try destination.hardLink(path, to: try ArchivePath(linkName))
            case UInt8(ascii: "3"), UInt8(ascii: "4"):
                throw ResourceError(
                    .archiveUnsafe,
                    "The entry \(path) is a device file; a resource package may hold only files, directories and links"
                )
            case UInt8(ascii: "6"):
                throw ResourceError(
                    .archiveUnsafe,
                    "The entry \(path) is a FIFO; a resource package may hold only files, directories and links"
                )
            default:
                throw ResourceError(
                    .archiveUnsafe,
                    "The entry \(path) has the tar type \"\(Character(Unicode.Scalar(type)))\", which Moss does not unpack"
                )
            }
        }
    }

    private func corrupt(_ why: String) -> ResourceError {
        ResourceError(.archiveCorrupt, "The package is not a valid tar archive: \(why)")
    }

    private func verifyChecksum(_ block: [UInt8]) throws(ResourceError) {
        let stored = try number(block[148..<156], field: "checksum")
        var sum: Int64 = 0
        for (index, byte) in block.enumerated() { sum += (148..<156).contains(index) ? 32 : Int64(byte) }
        guard stored == sum else { throw corrupt("a header's checksum does not match (damaged or not a tar file)") }
    }

    /// An octal field (NUL or space terminated), or GNU's base-256 for large values.
    private func number(_ field: ArraySlice<UInt8>, field name: String) throws(ResourceError) -> Int64 {
        if let first = field.first, first & 0x80 != 0 {
            var value: Int64 = Int64(first & 0x7F)
            for byte in field.dropFirst() {
                guard value < Int64.max >> 8 else { throw corrupt("the \(name) field is too large") }
                value = value << 8 | Int64(byte)
            }
            return value
        }
        var value: Int64 = 0
        var seenDigit = false
        for byte in field {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                guard value < Int64.max >> 3 else { throw corrupt("the \(name) field is too large") }
                value = value * 8 + Int64(byte - UInt8(ascii: "0"))
                seenDigit = true
            case UInt8(ascii: " ") where !seenDigit: continue
            case 0, UInt8(ascii: " "): return value
            default: throw corrupt("the \(name) field is not an octal number")
            }
        }
        return value
    }

    private static func headerName(_ block: [UInt8]) -> String {
        let name = string(block[0..<100])
        // ustar splits long paths into prefix/name.
        if block[257..<262].elementsEqual("ustar".utf8) {
            let prefix = string(block[345..<500])
            if !prefix.isEmpty { return prefix + "/" + name }
        }
        return name
    }

    private static func string(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// pax records: "LENGTH key=value\n", LENGTH counting the whole record.
    private static func paxRecords(_ data: [UInt8]) throws(ResourceError) -> [String: String] {
        var records: [String: String] = [:]
        var index = 0
        while index < data.count {
            guard let space = data[index...].firstIndex(of: UInt8(ascii: " ")),
                let length = Int(String(decoding: data[index..<space], as: UTF8.self)), length > 0,
                index + length <= data.count
            else {
                throw ResourceError(
                    .archiveCorrupt,
                    "The package is not a valid tar archive: a pax record is malformed"
                )
            }
            let record = data[(space + 1)..<(index + length - 1)]
            if let equals = record.firstIndex(of: UInt8(ascii: "=")) {
                records[String(decoding: record[..<equals], as: UTF8.self)] =
                    String(decoding: record[(equals + 1)...], as: UTF8.self)
            }
            index += length
        }
        return records
    }
}
