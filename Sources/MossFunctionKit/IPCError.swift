/// An IPC call the core refused or that could not reach the core (the Python client's `IPCException`).
public struct IPCError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The HTTP status; nil when the core could not be reached.
    public var status: Int?
    /// What went wrong: the core's message (its `{"message": ...}` body) or the connection failure.
    public var message: String
    public var method: String
    public var path: String

    public var description: String {
        if let status {
            return "IPC \(method) \(path) failed with HTTP \(status): \(message)"
        }
        return "IPC \(method) \(path) failed: \(message)"
    }
}
