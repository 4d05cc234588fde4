#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The directory an archive unpacks into, and the only way entries reach the disk: it counts entries and bytes
/// against the limits, never writes through a symbolic link, never replaces what an earlier entry wrote, and
/// creates only directories, regular files and links that stay inside.
final class UnpackDestination {
    let root: String
    let limits: UnpackLimits
    private(set) var entries = 0
    private(set) var bytes: Int64 = 0

    init(root: String, limits: UnpackLimits) {
        self.root = root
        self.limits = limits
    }

    func directory(_ path: ArchivePath) throws(ResourceError) {
        try count(path)
        guard !path.isRoot else { return }
        try makeParents(of: path, includingLast: true)
    }

    /// Creates the file and passes `write` to `body`, which calls it with each chunk of content.
    func file(
        _ path: ArchivePath,
        mode: UInt32,
        _ body: ((UnsafeRawBufferPointer) throws(ResourceError) -> Void) throws -> Void
    ) throws(ResourceError) {
        try count(path)
        guard !path.isRoot else { throw ResourceError(.archiveUnsafe, "A file entry has no name") }
        try makeParents(of: path, includingLast: false)
        let full = fullPath(path.components)
        // Group and others never get write access or special bits from an archive; ownerSetting sets the rest.
        let fd = open(full, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode_t(mode & 0o755 | 0o600))
        guard fd >= 0 else {
            if errno == EEXIST { throw duplicate(path) }
            throw failed("create \(path)")
        }
        defer { close(fd) }
        do {
            try body { (chunk: UnsafeRawBufferPointer) throws(ResourceError) in
                bytes += Int64(chunk.count)
                guard bytes <= limits.maximumBytes else { throw tooManyBytes() }
                var offset = 0
                while offset < chunk.count {
                    let written = write(fd, chunk.baseAddress! + offset, chunk.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        throw failed("write \(path)")
                    }
                    offset += written
                }
            }
        } catch let error as ResourceError {
            throw error
        } catch {
            throw ResourceError(.archiveCorrupt, "The entry \(path) could not be read: \(error)")
        }
    }

    func symbolicLink(_ path: ArchivePath, target: String) throws(ResourceError) {
        try count(path)
        guard !path.isRoot else { throw ResourceError(.archiveUnsafe, "A link entry has no name") }
        guard path.resolvedLinkTarget(target) != nil else {
            throw ResourceError(
                .archiveUnsafe,
                "The link \(path) points at \"\(target)\", outside the resource's directory; links must stay inside"
            )
        }
        try makeParents(of: path, includingLast: false)
        guard symlink(target, fullPath(path.components)) == 0 else {
            if errno == EEXIST { throw duplicate(path) }
            throw failed("create the link \(path)")
        }
    }

    /// A tar hard link: another name for a file already unpacked (never for a link or directory).
    func hardLink(_ path: ArchivePath, to target: ArchivePath) throws(ResourceError) {
        try count(path)
        try makeParents(of: path, includingLast: false)
        try makeParents(of: target, includingLast: false)
        var status = stat()
        guard lstat(fullPath(target.components), &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            throw ResourceError(
                .archiveUnsafe,
                "The hard link \(path) points at \(target), which is not a file unpacked before it"
            )
        }
        guard link(fullPath(target.components), fullPath(path.components)) == 0 else {
            if errno == EEXIST { throw duplicate(path) }
            throw failed("create the hard link \(path)")
        }
    }

    private func count(_ path: ArchivePath) throws(ResourceError) {
        entries += 1
        guard entries <= limits.maximumEntries else {
            throw ResourceError(
                .archiveTooLarge,
                "The package has more than \(limits.maximumEntries) entries (resources.maximumEntries); "
                    + "raise the limit in the core configuration if the package is genuine"
            )
        }
    }

    private func tooManyBytes() -> ResourceError {
        ResourceError(
            .archiveTooLarge,
            "The package unpacks to more than \(limits.maximumBytes) bytes (resources.maximumUnpackedBytes); "
                + "raise the limit in the core configuration if the package is genuine"
        )
    }

    /// Creates the missing directories above `path` (and `path` itself with `includingLast`), refusing to go
    /// through a link or a file.
    private func makeParents(of path: ArchivePath, includingLast: Bool) throws(ResourceError) {
        let count = includingLast ? path.components.count : path.components.count - 1
        guard count > 0 else { return }
        for end in 1...count {
            let prefix = Array(path.components[..<end])
            let full = fullPath(prefix)
            var status = stat()
            if lstat(full, &status) == 0 {
                switch status.st_mode & S_IFMT {
                case S_IFDIR: continue
                case S_IFLNK:
                    throw ResourceError(
                        .archiveUnsafe,
                        "The entry \(path) would be written through the link \(prefix.joined(separator: "/"))"
                    )
                default:
                    throw ResourceError(
                        .archiveUnsafe,
                        "The entry \(path) needs \(prefix.joined(separator: "/")) to be a directory, but it is a file"
                    )
                }
            }
            guard mkdir(full, 0o755) == 0 || errno == EEXIST else { throw failed("create the directory \(path)") }
        }
    }

    private func fullPath(_ components: [String]) -> String {
        ([root] + components).joined(separator: "/")
    }

    private func duplicate(_ path: ArchivePath) -> ResourceError {
        ResourceError(.archiveUnsafe, "The entry \(path) appears twice in the package")
    }

    private func failed(_ what: String) -> ResourceError {
        let reason = String(cString: strerror(errno))
        return ResourceError(.installFailed, "Could not \(what) under \(root): \(reason)")
    }
}
