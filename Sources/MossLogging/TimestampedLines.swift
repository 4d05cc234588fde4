import Synchronization

/// Turns a worker's output, in whatever pieces the pipe delivers it, into lines that each start with the time they
/// arrived (`[2026-11-21T11:14:02.123Z]`), as V1's core stored function log records.
public final class TimestampedLines: Sendable {
    private let pending = Mutex<[UInt8]>([])
    private let sink: RotatingLogFile

    public init(sink: RotatingLogFile) {
        self.sink = sink
    }

    /// Writes every complete line in `bytes` (with what was left of the last piece) and keeps the rest.
    public func feed(_ bytes: [UInt8]) {
        let complete: [UInt8]? = pending.withLock { pending in
            guard let lastNewline = bytes.lastIndex(of: UInt8(ascii: "\n")) else {
                pending.append(contentsOf: bytes)
                return nil
            }
            var lines = pending
            lines.append(contentsOf: bytes[...lastNewline])
            pending = Array(bytes[(lastNewline + 1)...])
            return lines
        }
        if let complete { write(complete) }
    }

    /// Writes what is left (output that did not end with a newline), when the worker has exited.
    public func finish() {
        let rest = pending.withLock { pending in
            defer { pending.removeAll() }
            return pending
        }
        if !rest.isEmpty { write(rest + [UInt8(ascii: "\n")]) }
    }

    /// One append per line, so the file rotates between lines and never past its bound.
    private func write(_ lines: [UInt8]) {
        let prefix = Array("[\(LogTimestamp.now())]".utf8)
        for line in lines.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast() {
            var stamped = prefix
            stamped.append(contentsOf: line)
            stamped.append(UInt8(ascii: "\n"))
            sink.append(stamped)
        }
    }
}
