import Foundation
import ZIPFoundation

/// Unpacks a .zip (ZIPFoundation reads it and checks every entry's CRC) into an ``UnpackDestination``.
struct ZipUnpacker {
    let path: String

    func unpack(into destination: UnpackDestination) throws(ResourceError) {
        let archive: Archive
        do {
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw ResourceError(.archiveCorrupt, "The package is not a valid zip archive: \(error)")
        }
        let entries = Array(archive)
        // A bomb is refused before anything is written when its declared sizes already exceed the limit; the
        // destination counts the real bytes too, since declared sizes can lie.
        let declared = entries.reduce(Int64(0)) { $0 &+ Int64(clamping: $1.uncompressedSize) }
        guard declared <= destination.limits.maximumBytes else {
            throw ResourceError(
                .archiveTooLarge,
                "The package declares \(declared) bytes of content, more than the limit of "
                    + "\(destination.limits.maximumBytes) (resources.maximumUnpackedBytes); raise the limit in the "
                    + "core configuration if the package is genuine"
            )
        }
        let unixTypes = ZipFileTypes.unixTypes(of: path)
        for entry in entries {
            let path = try ArchivePath(entry.path)
            if let type = unixTypes[entry.path], ![0, 0o100000, 0o040000, 0o120000].contains(type) {
                throw ResourceError(
                    .archiveUnsafe,
                    "The entry \(path) is a device file or FIFO; a resource package may hold only files, directories and links"
                )
            }
            switch entry.type {
            case .directory:
                try destination.directory(path)
            case .symlink:
                var target: [UInt8] = []
                try extract(entry, from: archive, path: path) { target += $0 }
                try destination.symbolicLink(path, target: String(decoding: target, as: UTF8.self))
            case .file:
                let mode = (entry.fileAttributes[.posixPermissions] as? NSNumber)?.uint32Value ?? 0o644
                try destination.file(path, mode: mode) { write in
                    try extract(entry, from: archive, path: path) { data in
                        try data.withUnsafeBytes { try write($0) }
                    }
                }
            }
        }
    }

    private func extract(
        _ entry: Entry,
        from archive: Archive,
        path: ArchivePath,
        _ consume: (Data) throws -> Void
    ) throws(ResourceError) {
        do {
            _ = try archive.extract(entry, skipCRC32: false, consumer: consume)
        } catch let error as ResourceError {
            throw error
        } catch {
            throw ResourceError(.archiveCorrupt, "The entry \(path) of the zip is damaged: \(error)")
        }
    }
}
