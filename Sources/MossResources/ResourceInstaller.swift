import Foundation
public import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A version ready to be switched in: freshly unpacked, or the installed one found unchanged.
public struct PreparedResource: Sendable, Hashable {
    public var record: ResourceVersion
    /// The version's directory: what a function's mount or prefix link points at.
    public var directory: String
    /// False when the installed version was kept (nothing to remove on discard).
    public var isNew: Bool
}

/// What the group asks of one resource.
public struct ResourceRequest: Sendable, Hashable {
    public var id: String
    public var source: ResourceSource
    /// The SHA-256 the package must have (lowercase hex).
    public var sha256: String?
    public var owner: ResourceOwner?

    public init(id: String, source: ResourceSource, sha256: String?, owner: ResourceOwner?) {
        self.id = id
        self.source = source
        self.sha256 = sha256
        self.owner = owner
    }
}

/// Resources on disk, one directory each under `root` (`DATA_DIR/resources`):
///
/// ```
/// <id>/versions/<version>/        the unpacked files (a function's mount or link points here)
/// <id>/versions/<version>.json    its ResourceVersion
/// <id>/current -> versions/<v>    the version in effect, switched with one rename
/// <id>/staging/                   downloads and unpacks under way
/// ```
///
/// A new version is downloaded and unpacked beside the old one; nothing is visible until ``activate(_:)``
/// renames the `current` link, and unused versions go only after that.
public struct ResourceInstaller: Sendable {
    public let root: String
    public let fetcher: ResourceFetcher
    public let limits: UnpackLimits
    private let logger: Logger

    public init(root: String, fetcher: ResourceFetcher, limits: UnpackLimits, logger: Logger) {
        self.root = root
        self.fetcher = fetcher
        self.limits = limits
        self.logger = logger
    }

    /// The version in effect for `id`, if any.
    public func installed(_ id: String) -> ResourceVersion? {
        guard let version = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(root)/\(id)/current") else {
            return nil
        }
        return record(id: id, version: (version as NSString).lastPathComponent)
    }

    /// Every resource's version in effect, by id.
    public func list() -> [ResourceVersion] {
        let ids = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return ids.sorted().compactMap(installed)
    }

    /// Fetches and unpacks `request` into a new version, or keeps the installed one when its source is unchanged
    /// (or, with `offline`, whenever one is installed from the same source: a restart must not need the network).
    public func prepare(
        _ request: ResourceRequest,
        offline: Bool = false
    ) async throws(ResourceError) -> PreparedResource {
        let current = installed(request.id)
        let now = Date().timeIntervalSince1970
        if offline, var current, current.source == request.source.description {
            current.lastChecked = now
            return PreparedResource(record: current, directory: versionDirectory(current), isNew: false)
        }
        let staging = "\(root)/\(request.id)/staging"
        try makeDirectory(staging)
        let token = UUID().uuidString.lowercased().prefix(8)
        let download = "\(staging)/\(token).package"
        defer { try? FileManager.default.removeItem(atPath: download) }
        let outcome = try await fetcher.fetch(
            request.source,
            resourceId: request.id,
            installed: current?.validator,
            to: download
        )
        switch outcome {
        case .unchanged(let validator):
            guard var current else {
                throw ResourceError(
                    .downloadFailed,
                    "The source answered \"not modified\" for a resource Moss does not have"
                )
            }
            if let pin = request.sha256, pin != current.sha256 {
                throw mismatch(request, actual: current.sha256 ?? "none")
            }
            current.validator = validator
            current.lastChecked = now
            guard current.owner != request.owner else {
                return PreparedResource(record: current, directory: versionDirectory(current), isNew: false)
            }
            // Only the owner changed: a copy of the installed files with the new owner, switched in like any version.
            return try install(
                from: versionDirectory(current),
                request: request,
                record: current,
                staging: staging,
                now: now
            )
        case .fetched(let package):
            if let pin = request.sha256, pin != package.sha256 {
                throw mismatch(request, actual: package.sha256 ?? "none (a directory)")
            }
            let record = ResourceVersion(
                resourceId: request.id,
                version: "",
                source: request.source.description,
                validator: package.validator,
                sha256: package.sha256,
                packageBytes: package.bytes,
                unpackedBytes: 0,
                entries: 0,
                owner: request.owner,
                installedAt: now,
                lastChecked: now
            )
            return try install(from: package.path, request: request, record: record, staging: staging, now: now)
        }
    }

    /// Unpacks `package` (a file or a directory) into a new version directory and applies the owner.
    private func install(
        from package: String,
        request: ResourceRequest,
        record: ResourceVersion,
        staging: String,
        now: Double
    ) throws(ResourceError) -> PreparedResource {
        let version = Self.versionName(at: now, sha256: record.sha256)
        let unpackDirectory = "\(staging)/\(version)"
        defer { try? FileManager.default.removeItem(atPath: unpackDirectory) }
        let unpacked = try ArchiveUnpacker.unpack(package, into: unpackDirectory, limits: limits)
        if let owner = request.owner { try Self.apply(owner, to: unpacked.directory) }
        var record = record
        record.version = version
        record.unpackedBytes = unpacked.bytes
        record.entries = unpacked.entries
        record.owner = request.owner
        record.installedAt = now
        let versions = "\(root)/\(request.id)/versions"
        try makeDirectory(versions)
        let directory = "\(versions)/\(version)"
        guard rename(unpacked.directory, directory) == 0 else {
            throw ResourceError(.installFailed, "Could not move the unpacked files to \(directory): \(Self.reason())")
        }
        // The installed directory is read by functions; it is not writable by others whatever the archive said.
        let mode: mode_t = request.owner.map { $0.writable ? 0o770 : 0o750 } ?? 0o755
        chmod(directory, mode)
        return PreparedResource(record: record, directory: directory, isNew: true)
    }

    /// Switches `prepared` in: its record is saved, then `current` is replaced by one rename.
    public func activate(_ prepared: PreparedResource) {
        let id = prepared.record.resourceId
        do {
            try write(prepared.record)
            let link = "\(root)/\(id)/current"
            let temporary = "\(link).\(prepared.record.version).tmp"
            unlink(temporary)
            guard symlink("versions/\(prepared.record.version)", temporary) == 0, rename(temporary, link) == 0 else {
                throw ResourceError(.installFailed, "Could not switch \(link): \(Self.reason())")
            }
        } catch {
            // Activation cannot fail a deployment; the function already has the version's path, so it still works.
            logger.error(
                "Could not record a resource version",
                metadata: ["resource.id": "\(id)", "error": "\(error)"]
            )
        }
    }

    /// Removes a version that was prepared but will not be switched in.
    public func discard(_ prepared: PreparedResource) {
        guard prepared.isNew else { return }
        try? FileManager.default.removeItem(atPath: prepared.directory)
    }

    /// Removes every version not in `keeping` (version names by resource id) and every resource not named there.
    public func removeUnused(keeping: [String: String]) {
        let ids = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        for id in ids where id != Self.prefixesDirectory {
            guard let kept = keeping[id] else {
                try? FileManager.default.removeItem(atPath: "\(root)/\(id)")
                continue
            }
            let versions = "\(root)/\(id)/versions"
            for name in (try? FileManager.default.contentsOfDirectory(atPath: versions)) ?? []
            where name != kept && name != kept + ".json" {
                try? FileManager.default.removeItem(atPath: "\(versions)/\(name)")
            }
            try? FileManager.default.removeItem(atPath: "\(root)/\(id)/staging")
        }
    }

    /// Where NoContainer functions' resource prefixes live (see ``ResourcePrefixes``); never a resource id.
    static let prefixesDirectory = ".functions"

    // MARK: Helpers

    private func versionDirectory(_ record: ResourceVersion) -> String {
        "\(root)/\(record.resourceId)/versions/\(record.version)"
    }

    private func record(id: String, version: String) -> ResourceVersion? {
        guard let data = FileManager.default.contents(atPath: "\(root)/\(id)/versions/\(version).json") else {
            return nil
        }
        return try? JSONDecoder().decode(ResourceVersion.self, from: data)
    }

    private func write(_ record: ResourceVersion) throws {
        let path = "\(root)/\(record.resourceId)/versions/\(record.version).json"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(record).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    private func makeDirectory(_ path: String) throws(ResourceError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw ResourceError(.installFailed, "Could not create \(path): \(error)")
        }
    }

    private func mismatch(_ request: ResourceRequest, actual: String) -> ResourceError {
        ResourceError(
            .checksumMismatch,
            "The package from \(request.source) has SHA-256 \(actual), but the group pins \(request.sha256 ?? "")"
        )
    }

    /// `v<milliseconds>-<sha256 prefix>`: sortable by install time, and telling which content it holds.
    static func versionName(at time: Double, sha256: String?) -> String {
        "v\(Int64(time * 1000))-\(sha256.map { String($0.prefix(12)) } ?? "dir")"
    }

    /// Gives `owner`'s group the files: read (and, for rw, write) for the group, nothing for others.
    static func apply(_ owner: ResourceOwner, to directory: String) throws(ResourceError) {
        var paths = [directory]
        if let enumerator = FileManager.default.enumerator(atPath: directory) {
            while let relative = enumerator.nextObject() as? String { paths.append(directory + "/" + relative) }
        }
        for path in paths {
            guard let mode = fileMode(atPath: path) else { continue }
            guard lchown(path, uid_t.max, gid_t(owner.gid)) == 0 else {
                throw ResourceError(
                    .installFailed,
                    "Could not give \(path) to the group \(owner.group) (GID \(owner.gid)): \(reason()); "
                        + "Moss must run as root or be a member of that group"
                )
            }
            let type = mode & S_IFMT
            if type == S_IFLNK { continue }
            let executable = type == S_IFDIR || mode & 0o100 != 0
            var permissions: mode_t = executable ? 0o750 : 0o640
            if owner.writable { permissions |= 0o020 }
            chmod(path, permissions)
        }
    }

    static func reason() -> String { String(cString: strerror(errno)) }
}
