import Foundation

/// The files of one Moss data directory (`--data-dir`, `MOSS_DATA_DIR`, default `./moss-data`):
///
///     moss.sqlite   the database (plus -wal and -shm beside it)
///     moss.sock     the admin API socket, while the daemon runs
///     moss.lock     held by the running daemon, so a second one refuses to start
///     ports.json    the ports the running daemon bound
///     certs/        written by `moss certs`, used by the TLS listener
public struct DataDirectory: Sendable, Hashable {
    /// Absolute path.
    public let path: String

    /// Resolves `path` against the current directory.
    public init(path: String) {
        self.path = URL(fileURLWithPath: path).standardizedFileURL.path
    }

    public var database: String { path + "/moss.sqlite" }
    public var adminSocket: String { path + "/moss.sock" }
    public var lockFile: String { path + "/moss.lock" }
    public var portsFile: String { path + "/ports.json" }
    public var certificates: CertificateDirectory { CertificateDirectory(path: path + "/certs") }

    /// The data directory a client command uses: the flag, else `MOSS_DATA_DIR`, else `./moss-data`.
    public static func resolve(flag: String?) -> DataDirectory {
        resolve(flag: flag, environment: ProcessInfo.processInfo.environment)
    }

    static func resolve(flag: String?, environment: [String: String]) -> DataDirectory {
        DataDirectory(path: flag ?? environment["MOSS_DATA_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "./moss-data")
    }

    /// Creates the directory (mode 0700: it holds keys and the admin socket) if it does not exist.
    func create() throws(DaemonError) {
        do {
            try FileManager.default.createDirectory(
                atPath: path,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
        } catch {
            throw .dataDirectory(path, error.localizedDescription)
        }
    }
}
