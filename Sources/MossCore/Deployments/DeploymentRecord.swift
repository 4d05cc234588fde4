/// A deployment as the admin API and `moss deployments` show it (V1's deployment status, plus what was deployed).
public struct DeploymentRecord: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable, Hashable {
        case deploy, rollback, reset
    }

    /// V1's `DeploymentStatus` values.
    public enum Status: String, Codable, Sendable, Hashable {
        case inProgress = "InProgress"
        case success = "Success"
        case failure = "Failure"
    }

    /// V1's `ErrorDetails` entry.
    public struct ErrorDetail: Codable, Sendable, Hashable {
        public var detailedErrorCode: String
        public var detailedErrorMessage: String

        public init(detailedErrorCode: String, detailedErrorMessage: String) {
            self.detailedErrorCode = detailedErrorCode
            self.detailedErrorMessage = detailedErrorMessage
        }
    }

    public var id: String
    /// Position in the history, from 1.
    public var sequence: Int64
    public var kind: Kind
    public var status: Status
    /// The group file deployed, or the deployment rolled back to.
    public var source: String?
    /// SHA-256 of the group's canonical form: equal digests, equal groups.
    public var groupDigest: String?
    public var errorDetails: [ErrorDetail]
    /// Non-fatal diagnostics from validation.
    public var warnings: [String]
    /// True when the group was already deployed, so nothing had to change.
    public var unchanged: Bool
    /// Seconds since 1970.
    public var createdAt: Double
    public var finishedAt: Double?

    public init(
        id: String,
        sequence: Int64,
        kind: Kind,
        status: Status,
        source: String?,
        groupDigest: String?,
        errorDetails: [ErrorDetail] = [],
        warnings: [String] = [],
        unchanged: Bool = false,
        createdAt: Double,
        finishedAt: Double?
    ) {
        self.id = id
        self.sequence = sequence
        self.kind = kind
        self.status = status
        self.source = source
        self.groupDigest = groupDigest
        self.errorDetails = errorDetails
        self.warnings = warnings
        self.unchanged = unchanged
        self.createdAt = createdAt
        self.finishedAt = finishedAt
    }
}

/// What is deployed now, for `moss status`.
public struct DeployedGroupSummary: Codable, Sendable, Hashable {
    public var deploymentId: String
    public var sequence: Int64
    public var groupDigest: String
    public var deployedAt: Double
    public var coreThing: String
    public var devices: Int
    public var functions: Int
    public var subscriptions: Int
    public var resources: Int

    public init(
        deploymentId: String,
        sequence: Int64,
        groupDigest: String,
        deployedAt: Double,
        coreThing: String,
        devices: Int,
        functions: Int,
        subscriptions: Int,
        resources: Int
    ) {
        self.deploymentId = deploymentId
        self.sequence = sequence
        self.groupDigest = groupDigest
        self.deployedAt = deployedAt
        self.coreThing = coreThing
        self.devices = devices
        self.functions = functions
        self.subscriptions = subscriptions
        self.resources = resources
    }
}
