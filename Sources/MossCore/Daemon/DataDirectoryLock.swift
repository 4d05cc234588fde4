#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive `flock` on `DATA_DIR/moss.lock`, held for the daemon's lifetime.
///
/// The kernel drops it when the process dies, however it dies, so a leftover `moss.sock` is known to be stale
/// exactly when the lock can be taken; two daemons can never share a database or a socket.
final class DataDirectoryLock: Sendable {
    /// `sun_path` holds 108 bytes including the terminating NUL.
    static let maximumSocketPathLength = 107

    private let descriptor: Int32

    init(dataDirectory: DataDirectory) throws(DaemonError) {
        guard dataDirectory.adminSocket.utf8.count <= Self.maximumSocketPathLength else {
            throw .socketPathTooLong(dataDirectory.adminSocket)
        }
        let descriptor = open(dataDirectory.lockFile, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw .dataDirectory(
                dataDirectory.path,
                "cannot open \(dataDirectory.lockFile): \(String(cString: strerror(errno)))"
            )
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw .alreadyRunning(dataDirectory: dataDirectory.path)
        }
        self.descriptor = descriptor
        // We own the directory now: whatever socket or ports file is there was left by a daemon that died.
        unlink(dataDirectory.adminSocket)
        unlink(dataDirectory.portsFile)
    }

    deinit {
        close(descriptor)
    }
}
