import Foundation
import GRDB

/// A deployment as stored.
public struct DeploymentRow: Sendable, Hashable {
    public var id: String
    /// Position in the history, from 1.
    public var sequence: Int64
    /// `deploy`, `rollback` or `reset`.
    public var kind: String
    /// `InProgress`, `Success` or `Failure` (V1's names).
    public var status: String
    /// The group's canonical JSON; nil for a reset.
    public var groupJSON: [UInt8]?
    public var groupDigest: String?
    /// Where the group came from: the file deployed, or the deployment rolled back to.
    public var source: String?
    /// V1's ErrorDetails as JSON, for a failure.
    public var errorDetails: String?
    public var createdAt: Double
    public var finishedAt: Double?

    public init(
        id: String,
        sequence: Int64,
        kind: String,
        status: String,
        groupJSON: [UInt8]?,
        groupDigest: String?,
        source: String?,
        errorDetails: String?,
        createdAt: Double,
        finishedAt: Double?
    ) {
        self.id = id
        self.sequence = sequence
        self.kind = kind
        self.status = status
        self.groupJSON = groupJSON
        self.groupDigest = groupDigest
        self.source = source
        self.errorDetails = errorDetails
        self.createdAt = createdAt
        self.finishedAt = finishedAt
    }
}

extension MossDatabase {
    private static let deploymentColumns =
        "id, sequence, kind, status, group_json, group_digest, source, error_details, created_at, finished_at"

    /// The next sequence number of the history.
    public func nextDeploymentSequence() async throws -> Int64 {
        try await writer.read { db in
            (try Int64.fetchOne(db, sql: "SELECT MAX(sequence) FROM deployment") ?? 0) + 1
        }
    }

    /// Records `row` (insert or replace); when `deployed` is set, makes it the deployment in effect (`.some(nil)`
    /// for none) in the same transaction.
    public func saveDeployment(_ row: DeploymentRow, deployed: String?? = nil) async throws {
        try await writer.write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO deployment (\(Self.deploymentColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                arguments: [
                    row.id, row.sequence, row.kind, row.status, row.groupJSON.map { Data($0) }, row.groupDigest,
                    row.source, row.errorDetails, row.createdAt, row.finishedAt,
                ]
            )
            if let deployed {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO deployed_group (singleton, deployment_id) VALUES (1, ?)",
                    arguments: [deployed]
                )
            }
        }
    }

    /// The history, oldest first.
    public func deployments() async throws -> [DeploymentRow] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.deploymentColumns) FROM deployment ORDER BY sequence").map(Self.deployment)
        }
    }

    public func deployment(id: String) async throws -> DeploymentRow? {
        try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.deploymentColumns) FROM deployment WHERE id = ?", arguments: [id])
                .map(Self.deployment)
        }
    }

    /// The deployment in effect, if any.
    public func deployedDeployment() async throws -> DeploymentRow? {
        try await writer.read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT \(Self.deploymentColumns.split(separator: ",").map { "d." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", "))
                    FROM deployed_group g JOIN deployment d ON d.id = g.deployment_id
                    """
            ).map(Self.deployment)
        }
    }

    /// Removes every shadow (V1's reset deletes the local shadow database).
    public func deleteAllShadows() async throws {
        try await writer.write { db in try db.execute(sql: "DELETE FROM shadow") }
    }

    private static func deployment(_ row: Row) -> DeploymentRow {
        DeploymentRow(
            id: row[0],
            sequence: row[1],
            kind: row[2],
            status: row[3],
            groupJSON: (row[4] as Data?).map { Array($0) },
            groupDigest: row[5],
            source: row[6],
            errorDetails: row[7],
            createdAt: row[8],
            finishedAt: row[9]
        )
    }
}
