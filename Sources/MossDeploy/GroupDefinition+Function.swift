extension GroupDefinition {
    /// A user function (V1's `Function` with its `FunctionConfiguration`), with the group's defaults applied.
    public struct Function: Sendable, Hashable, Codable {
        public var id: String
        /// The Lambda function name: the `NAME` of its ARN and of `function:NAME` endpoints.
        public var name: String
        /// A version number ("1", the default) or an alias: the ARN's qualifier.
        public var version: String
        public var runtime: Runtime
        /// `module.function` for Python runtimes; nil for executables.
        public var handler: String?
        /// The program to start, relative to `code`, for the executable runtime; nil for Python.
        public var executable: String?
        /// Absolute path of the code: a directory or a `.zip`.
        public var code: String
        /// Long-lived (started with the group) rather than on demand.
        public var pinned: Bool
        /// Seconds one invocation may take (1…900).
        public var timeout: Int
        /// KB; nil means Moss's default.
        public var memorySize: Int?
        public var encodingType: EncodingType
        public var environment: Environment
        public var execArgs: String?
        /// The function's own mode, else the group default, else GreengrassContainer.
        public var isolationMode: IsolationMode
        /// The function's own user, else the group default; nil means Moss's default user.
        public var runAs: RunAs?
        public var accessSysfs: Bool
        public var resourceAccessPolicies: [ResourceAccessPolicy]

        public init(
            id: String,
            name: String,
            version: String = "1",
            runtime: Runtime,
            handler: String? = nil,
            executable: String? = nil,
            code: String,
            pinned: Bool = false,
            timeout: Int = 3,
            memorySize: Int? = nil,
            encodingType: EncodingType = .json,
            environment: Environment = Environment(),
            execArgs: String? = nil,
            isolationMode: IsolationMode = .greengrassContainer,
            runAs: RunAs? = nil,
            accessSysfs: Bool = false,
            resourceAccessPolicies: [ResourceAccessPolicy] = []
        ) {
            self.id = id
            self.name = name
            self.version = version
            self.runtime = runtime
            self.handler = handler
            self.executable = executable
            self.code = code
            self.pinned = pinned
            self.timeout = timeout
            self.memorySize = memorySize
            self.encodingType = encodingType
            self.environment = environment
            self.execArgs = execArgs
            self.isolationMode = isolationMode
            self.runAs = runAs
            self.accessSysfs = accessSysfs
            self.resourceAccessPolicies = resourceAccessPolicies
        }
    }

    /// The languages a function can be written in.
    public enum Runtime: String, Sendable, Hashable, Codable, CaseIterable {
        case python3_7 = "python3.7"
        case python3_8 = "python3.8"
        case python3_9 = "python3.9"
        case python3_10 = "python3.10"
        case python3_11 = "python3.11"
        case python3_12 = "python3.12"
        case python3_13 = "python3.13"
        /// A native program (V1's `arn:aws:greengrass:::runtime/function/executable`).
        case executable

        public var isPython: Bool { self != .executable }
    }

    /// How events reach the handler: decoded JSON or raw bytes.
    public enum EncodingType: String, Sendable, Hashable, Codable, CaseIterable {
        case json
        case binary
    }

    /// V1's `Environment.Variables`, nested as in V1 so the file reads `environment: {variables: …}`.
    public struct Environment: Sendable, Hashable, Codable {
        public var variables: [String: String]

        public init(variables: [String: String] = [:]) {
            self.variables = variables
        }
    }

    /// A function's access to one resource.
    public struct ResourceAccessPolicy: Sendable, Hashable, Codable {
        public var resourceId: String
        public var permission: Permission

        public init(resourceId: String, permission: Permission = .readOnly) {
            self.resourceId = resourceId
            self.permission = permission
        }
    }

    public enum Permission: String, Sendable, Hashable, Codable, CaseIterable {
        case readOnly = "ro"
        case readWrite = "rw"
    }
}
