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

    /// The function host's directories: the Python runtime (readable by every function's user), function logs and
    /// container specs (the daemon's only).
    var pythonRuntime: String { path + "/runtime/python" }
    var functionLogs: String { path + "/logs/functions" }
    /// The daemon's own log (V1's GreengrassSystem logs), beside the functions' logs.
    var systemLog: String { path + "/logs/system.log" }
    var containers: String { path + "/containers" }

    /// Creates the directory if it does not exist and sets its modes.
    ///
    /// The directory itself is 0711: functions running as another user (NoContainer, as root) must pass through it to
    /// the runtime, but nobody else may list it. So everything private in it has a private mode of its own: the
    /// database 0600 (SQLite gives its -wal and -shm the database's mode), certs/, logs/ and containers/ 0700, the
    /// admin socket 0600.
    func create() throws(DaemonError) {
        let manager = FileManager.default
        do {
            try manager.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
            try manager.setAttributes([.posixPermissions: 0o711], ofItemAtPath: path)
            for directory in [path + "/logs", containers] {
                try manager.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                try manager.setAttributes([.posixPermissions: 0o700], ofItemAtPath: directory)
            }
            let descriptor = open(database, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            close(descriptor)
            for file in [database, database + "-wal", database + "-shm"] where manager.fileExists(atPath: file) {
                try manager.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
            }
        } catch {
            throw .dataDirectory(path, error.localizedDescription)
        }
    }
}
