extension GroupDefinition {
    /// One of V1's loggers: where a component's logs go, at which level, and how much space they may use.
    public struct LoggingConfiguration: Sendable, Hashable, Codable {
        /// V1's optional logger `Id`; kept so an imported V1 group reads the same.
        public var id: String?
        public var component: LogComponent
        public var level: LogLevel
        /// KB of local files (FileSystem only).
        public var space: Int
        public var type: LogType

        public init(
            id: String? = nil,
            component: LogComponent,
            level: LogLevel = .info,
            space: Int = 128,
            type: LogType = .fileSystem
        ) {
            self.id = id
            self.component = component
            self.level = level
            self.space = space
            self.type = type
        }

        /// What V1 did with no logger definition: both components to the file system at INFO, 128 KB.
        public static let defaults: [LoggingConfiguration] = [
            LoggingConfiguration(component: .greengrassSystem),
            LoggingConfiguration(component: .lambda),
        ]
    }

    public enum LogComponent: String, Sendable, Hashable, Codable, CaseIterable {
        /// Moss itself (V1's system components).
        case greengrassSystem = "GreengrassSystem"
        /// User functions.
        case lambda = "Lambda"
    }

    public enum LogLevel: String, Sendable, Hashable, Codable, CaseIterable {
        case debug = "DEBUG"
        case info = "INFO"
        case warn = "WARN"
        case error = "ERROR"
        case fatal = "FATAL"
    }

    public enum LogType: String, Sendable, Hashable, Codable, CaseIterable {
        case fileSystem = "FileSystem"
        /// Accepted, but Moss does not ship logs to CloudWatch yet (a warning says so).
        case awsCloudWatch = "AWSCloudWatch"
    }
}
