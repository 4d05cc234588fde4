import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes whole files so that readers see the old content or the new, never half of either.
enum AtomicFile {
    /// Writes `contents` to a temporary file created with `mode` (so a private key is never readable by
    /// others, not even for a moment), flushes it to disk, then renames it over `path`.
    static func write(_ contents: String, to path: String, mode: mode_t) throws {
        let temporary = path + ".tmp-\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw POSIXFailure(operation: "create \(temporary)") }
        var closed = false
        defer {
            if !closed { close(descriptor) }
        }
        // open() applies the umask; set the mode we asked for exactly.
        guard fchmod(descriptor, mode) == 0 else { throw POSIXFailure(operation: "set the mode of \(temporary)") }
        var bytes = Array(contents.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { throw POSIXFailure(operation: "write \(temporary)") }
            bytes = bytes.dropFirst(written)
        }
        guard fsync(descriptor) == 0 else { throw POSIXFailure(operation: "flush \(temporary)") }
        closed = true
        guard close(descriptor) == 0 else { throw POSIXFailure(operation: "close \(temporary)") }
        guard rename(temporary, path) == 0 else {
            let failure = POSIXFailure(operation: "rename \(temporary) to \(path)")
            unlink(temporary)
            throw failure
        }
    }
}

/// A failed system call, with what Moss was doing and the C library's reason.
struct POSIXFailure: Error, CustomStringConvertible {
    let operation: String
    let code: Int32

    init(operation: String, code: Int32 = errno) {
        self.operation = operation
        self.code = code
    }

    var description: String { "could not \(operation): \(String(cString: strerror(code)))" }
}
