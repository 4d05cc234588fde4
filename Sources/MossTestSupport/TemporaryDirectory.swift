import Foundation

/// A fresh directory under /tmp, removed when `body` returns. Short on purpose: Unix socket paths are
/// limited to 107 bytes, and the daemon puts its admin socket in its data directory.
public func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let path = "/tmp/moss-test-" + UUID().uuidString.prefix(8).lowercased()
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
}
