/// A storage operation failed; says which operation and keeps SQLite's own error as the cause.
public struct MossStoreError: Error, CustomStringConvertible {
    /// What Moss was doing, e.g. "open the database at /var/lib/moss/moss.sqlite".
    public var operation: String
    public var underlying: any Error

    public init(operation: String, underlying: any Error) {
        self.operation = operation
        self.underlying = underlying
    }

    public var description: String { "Could not \(operation): \(underlying)" }
}
