/// Polls `condition` until it holds, failing after `timeout`. Tests wait for a condition this way instead of
/// sleeping for a guessed time: fast when things are fast, and a clear failure when they never happen.
public func waitUntil(
    _ what: String,
    // Generous: a loaded 2-core CI machine once took over 15 s to start a daemon; a hung condition still fails.
    timeout: Duration = .seconds(60),
    pollingEvery interval: Duration = .milliseconds(20),
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw TimedOut(what: what, timeout: timeout) }
        try await Task.sleep(for: interval)
    }
}

/// ``waitUntil(_:timeout:pollingEvery:_:)`` gave up.
public struct TimedOut: Error, CustomStringConvertible {
    public let what: String
    public let timeout: Duration
    public var description: String { "timed out after \(timeout) waiting until \(what)" }
}
