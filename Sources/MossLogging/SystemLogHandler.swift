public import Logging

/// A swift-log handler writing to the ``SystemLog`` in the shape of swift-log's stream handler:
/// `2026-11-21T11:14:02.123Z info moss: key=value [Module] message`.
public struct SystemLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String
    private let log: SystemLog

    public init(label: String, log: SystemLog, level: Logger.Level) {
        self.label = label
        self.log = log
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        log.write(event.level, {
            var merged = metadata
            if let extra = event.metadata { merged.merge(extra) { _, new in new } }
            let rendered = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            let fields = rendered.isEmpty ? "" : rendered + " "
            return "\(LogTimestamp.now()) \(event.level) \(label): \(fields)[\(event.source)] \(event.message)\n"
        }())
    }
}
