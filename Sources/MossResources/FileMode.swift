#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `lstat(2)`'s mode of `path` (type and permission bits), nil when it does not exist. Kept apart from files that
/// import Foundation, whose CoreFoundation overlay declares its own `stat` on Linux.
func fileMode(atPath path: String) -> mode_t? {
    var status = stat()
    guard lstat(path, &status) == 0 else { return nil }
    return status.st_mode
}
