import Foundation

/// The Unix file type of each entry of a zip, read from its central directory, which ZIPFoundation does not
/// expose: it reports a device or FIFO entry as a regular file, and Moss refuses those outright.
enum ZipFileTypes {
    /// `S_IFMT` bits by entry name, for entries made on Unix; other entries are absent.
    static func unixTypes(of path: String) -> [String: UInt32] {
        guard let handle = FileHandle(forReadingAtPath: path) else { return [:] }
        defer { try? handle.close() }
        guard let size = try? handle.seekToEnd(), size >= 22 else { return [:] }
        // The end-of-central-directory record sits within the last 64 KiB + 22 bytes (its comment is at most 64 KiB).
        let tailLength = min(size, 65_557)
        guard (try? handle.seek(toOffset: size - tailLength)) != nil, let tail = try? handle.readToEnd() else {
            return [:]
        }
        let bytes = [UInt8](tail)
        guard
            let end = stride(from: bytes.count - 22, through: 0, by: -1).first(where: {
                bytes.uint32(at: $0) == 0x0605_4b50
            })
        else { return [:] }
        let count = Int(bytes.uint16(at: end + 10))
        let directorySize = UInt64(bytes.uint32(at: end + 12))
        let directoryOffset = UInt64(bytes.uint32(at: end + 16))
        // ZIP64 archives mark these 0xFFFF…; ZIPFoundation still reads them, only the device check is skipped.
        guard directoryOffset != 0xFFFF_FFFF, directorySize <= 64 << 20,
            (try? handle.seek(toOffset: directoryOffset)) != nil,
            let data = try? handle.read(upToCount: Int(directorySize))
        else { return [:] }
        let directory = [UInt8](data)
        var types: [String: UInt32] = [:]
        var index = 0
        for _ in 0..<count {
            guard index + 46 <= directory.count, directory.uint32(at: index) == 0x0201_4b50 else { break }
            let madeBy = directory.uint16(at: index + 4) >> 8
            let nameLength = Int(directory.uint16(at: index + 28))
            let extraLength = Int(directory.uint16(at: index + 30))
            let commentLength = Int(directory.uint16(at: index + 32))
            let external = directory.uint32(at: index + 38)
            guard index + 46 + nameLength <= directory.count else { break }
            let name = String(decoding: directory[(index + 46)..<(index + 46 + nameLength)], as: UTF8.self)
            // 3 is Unix, 19 is macOS: both keep st_mode in the external attributes' high half.
            if madeBy == 3 || madeBy == 19 { types[name] = (external >> 16) & 0o170000 }
            index += 46 + nameLength + extraLength + commentLength
        }
        return types
    }
}

extension [UInt8] {
    fileprivate func uint16(at offset: Int) -> UInt16 {
        UInt16(self[offset]) | UInt16(self[offset + 1]) << 8
    }

    fileprivate func uint32(at offset: Int) -> UInt32 {
        UInt32(uint16(at: offset)) | UInt32(uint16(at: offset + 2)) << 16
    }
}
