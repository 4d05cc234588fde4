/// Why the daemon could not start. Each names the path or setting to fix.
public enum DaemonError: Error, Hashable, CustomStringConvertible {
    case dataDirectory(String, String)
    case alreadyRunning(dataDirectory: String)
    case socketPathTooLong(String)
    case tlsFile(key: String, path: String)

    public var description: String {
        switch self {
        case .dataDirectory(let path, let reason):
            "cannot use data directory \(path): \(reason)"
        case .alreadyRunning(let path):
            "another moss daemon is already running with data directory \(path) (stop it first, or use another --data-dir)"
        case .socketPathTooLong(let path):
            "the admin socket path \(path) is \(path.utf8.count) bytes, more than Unix sockets allow (\(DataDirectoryLock.maximumSocketPathLength)); "
                + "choose a shorter --data-dir"
        case .tlsFile(let key, let path):
            "\(key): cannot read \(path)"
        }
    }
}
