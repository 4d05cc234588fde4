import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Unpacks a package (.zip or .tar.gz, told apart by their first bytes, or a plain directory) into a new
/// directory, with the limits and refusals of ``UnpackDestination``.
public enum ArchiveUnpacker {
    /// What an unpack produced.
    public struct Unpacked: Sendable, Hashable {
        /// The directory that holds the content: the one asked for, or its only subdirectory when the archive
        /// wraps everything in one parent directory (as V1 required of tar.gz models).
        public var directory: String
        public var bytes: Int64
        public var entries: Int
    }

    /// Unpacks `package` into `directory`, which must not exist yet.
    public static func unpack(
        _ package: String,
        into directory: String,
        limits: UnpackLimits
    ) throws(ResourceError) -> Unpacked {
        guard mkdir(directory, 0o755) == 0 else {
            throw ResourceError(.installFailed, "Could not create \(directory): \(String(cString: strerror(errno)))")
        }
        let destination = UnpackDestination(root: directory, limits: limits)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: package, isDirectory: &isDirectory) else {
            throw ResourceError(.sourceNotFound, "The package \(package) does not exist")
        }
        if isDirectory.boolValue {
            try copyTree(package, into: destination)
            return Unpacked(directory: directory, bytes: destination.bytes, entries: destination.entries)
        }
        let magic = (FileHandle(forReadingAtPath: package).flatMap { try? $0.read(upToCount: 4) }).map(Array.init) ?? []
        if magic.starts(with: [0x50, 0x4B, 0x03, 0x04]) || magic.starts(with: [0x50, 0x4B, 0x05, 0x06]) {
            try ZipUnpacker(path: package).unpack(into: destination)
        } else if magic.starts(with: [0x1F, 0x8B]) {
            let gzip = try GzipReader(path: package)
            try TarUnpacker(read: { (count: Int) throws(ResourceError) -> [UInt8] in try gzip.read(upTo: count) })
                .unpack(into: destination)
        } else {
            throw ResourceError(
                .archiveCorrupt,
                "The package is neither a zip nor a gzip-compressed tar archive (it starts with "
                    + "\(magic.map { String(format: "%02x", $0) }.joined(separator: " ")))"
            )
        }
        return Unpacked(
            directory: singleParent(of: directory) ?? directory,
            bytes: destination.bytes,
            entries: destination.entries
        )
    }

    /// The one directory `directory` holds, when it holds nothing else.
    private static func singleParent(of directory: String) -> String? {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory), names.count == 1 else {
            return nil
        }
        let only = directory + "/" + names[0]
        guard let mode = fileMode(atPath: only), mode & S_IFMT == S_IFDIR else { return nil }
        return only
    }

    /// A local directory source is copied with the same rules as an archive.
    private static func copyTree(_ source: String, into destination: UnpackDestination) throws(ResourceError) {
        guard let enumerator = FileManager.default.enumerator(atPath: source) else {
            throw ResourceError(.sourceNotFound, "The directory \(source) cannot be read")
        }
        while let relative = enumerator.nextObject() as? String {
            let path = try ArchivePath(relative)
            let full = source + "/" + relative
            guard let mode = fileMode(atPath: full) else {
                throw ResourceError(.sourceNotFound, "\(full) cannot be read: \(String(cString: strerror(errno)))")
            }
            switch mode & S_IFMT {
            case S_IFDIR:
                try destination.directory(path)
            case S_IFLNK:
                let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: full)) ?? ""
                try destination.symbolicLink(path, target: target)
            case S_IFREG:
                guard let handle = FileHandle(forReadingAtPath: full) else {
                    throw ResourceError(.sourceNotFound, "\(full) cannot be read")
                }
                defer { try? handle.close() }
                try destination.file(path, mode: UInt32(mode & 0o7777)) { write in
                    while let data = try handle.read(upToCount: 256 * 1024), !data.isEmpty {
                        try data.withUnsafeBytes { try write($0) }
                    }
                }
            default:
                throw ResourceError(
                    .archiveUnsafe,
                    "\(full) is a device, FIFO or socket; a resource may hold only files, directories and links"
                )
            }
        }
    }
}
