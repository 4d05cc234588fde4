import Foundation
import Logging
import MossDeploy
import MossShadow
import MossStore

/// Deploys groups: validate → prepare every stage → record and switch in one step → report. One deployment at a
/// time; a failure before the switch leaves the running group untouched. Every deployment is kept in MossStore.
public actor DeploymentManager {
    private let database: MossDatabase
    private let context: GroupContext
    private let stages: [any DeploymentStage]
    private let shadows: ShadowService?
    private let logger: Logger
    /// Whether the core configuration has a cloud; without one a group's cloud parts are warned about.
    private let cloudConfigured: Bool
    private var deployed: (row: DeploymentRow, group: GroupDefinition)?
    private var applying = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(
        database: MossDatabase,
        context: GroupContext,
        stages: [any DeploymentStage],
        shadows: ShadowService?,
        cloudConfigured: Bool = false,
        logger: Logger
    ) {
        self.cloudConfigured = cloudConfigured
        self.database = database
        self.context = context
        self.stages = stages
        self.shadows = shadows
        self.logger = logger
    }

    /// Puts the recorded group back into effect at start.
    func restore() async throws {
        guard let row = try await database.deployedDeployment(), let json = row.groupJSON else { return }
        let group = try JSONDecoder().decode(GroupDefinition.self, from: Data(json))
        var prepared: [any PreparedStage] = []
        for stage in stages { prepared.append(try await stage.restore(group)) }
        for stage in prepared { await stage.activate() }
        deployed = (row, group)
        logger.info(
            "Restored the deployed group",
            metadata: ["deployment.id": "\(row.id)", "deployment.digest": "\(row.groupDigest ?? "")"]
        )
    }

    /// Validates and deploys the group file at `path`.
    public func deploy(file path: String) async -> DeploymentRecord {
        let started = Date().timeIntervalSince1970
        let group: GroupDefinition
        let warnings: [String]
        do {
            let loaded = try GroupFile.load(path: path, context: context)
            group = loaded.group
            warnings = loaded.warnings.map(\.description) + cloudWarnings(group)
        } catch {
            return await record(
                kind: .deploy,
                source: path,
                group: nil,
                failure: error.diagnostics.filter { $0.severity == .error }.map {
                    .init(detailedErrorCode: "GroupValidationFailed", detailedErrorMessage: $0.description)
                },
                warnings: error.diagnostics.filter { $0.severity != .error }.map(\.description),
                started: started
            )
        }
        return await apply(kind: .deploy, group: group, source: path, warnings: warnings, started: started)
    }

    /// The group uses the cloud, which the core configuration does not have.
    private func cloudWarnings(_ group: GroupDefinition) -> [String] {
        guard !cloudConfigured else { return [] }
        let routes = group.subscriptions.contains { $0.source == .cloud || $0.target == .cloud }
        let sync = ([group.core.syncShadow] + group.devices.map(\.syncShadow)).contains(true)
            || !group.core.namedShadows.isEmpty || group.devices.contains { !$0.namedShadows.isEmpty }
        var warnings: [String] = []
        if routes {
            warnings.append("no cloud is configured (cloud.endpoint in the core configuration): messages routed to cloud are dropped and none come from it")
        }
        if sync {
            warnings.append("no cloud is configured (cloud.endpoint in the core configuration): synced shadows stay local")
        }
        return warnings
    }

    /// Deploys again the group of deployment `id`, or, without one, the last successful group before the current.
    public func rollback(to id: String?) async -> DeploymentRecord {
        let started = Date().timeIntervalSince1970
        let target: DeploymentRow?
        do {
            if let id {
                target = try await database.deployment(id: id)
            } else {
                let history = try await database.deployments()
                let current = deployed?.row.id
                let before = history.lastIndex { $0.id == current } ?? history.endIndex
                target = history[..<before].last { $0.status == DeploymentRecord.Status.success.rawValue && $0.groupJSON != nil }
            }
        } catch {
            return await record(kind: .rollback, source: id, group: nil, failure: [storeFailure(error)], started: started)
        }
        guard let target, let json = target.groupJSON, target.status == DeploymentRecord.Status.success.rawValue else {
            let message =
                id.map { "Deployment \($0) does not exist or did not deploy a group successfully" }
                ?? "There is no earlier successful deployment to roll back to"
            return await record(
                kind: .rollback,
                source: id,
                group: nil,
                failure: [.init(detailedErrorCode: "NoSuchDeployment", detailedErrorMessage: message)],
                started: started
            )
        }
        do {
            let group = try JSONDecoder().decode(GroupDefinition.self, from: Data(json))
            return await apply(kind: .rollback, group: group, source: target.id, warnings: [], started: started)
        } catch {
            return await record(kind: .rollback, source: target.id, group: nil, failure: [storeFailure(error)], started: started)
        }
    }

    /// V1's reset: no group any more (an ordinary broker again) and no shadows; the core configuration and
    /// certificates stay.
    public func reset() async -> DeploymentRecord {
        let started = Date().timeIntervalSince1970
        do {
            try await shadows?.reset()
        } catch {
            return await record(
                kind: .reset,
                source: nil,
                group: nil,
                failure: [.init(detailedErrorCode: "ResetFailed", detailedErrorMessage: "Could not delete the shadows: \(error)")],
                started: started
            )
        }
        return await apply(kind: .reset, group: nil, source: nil, warnings: [], started: started)
    }

    public func history() async throws -> [DeploymentRecord] {
        try await database.deployments().map { Self.record(from: $0) }
    }

    public func summary() -> DeployedGroupSummary? {
        guard let (row, group) = deployed, let digest = row.groupDigest else { return nil }
        return DeployedGroupSummary(
            deploymentId: row.id,
            sequence: row.sequence,
            groupDigest: digest,
            deployedAt: row.finishedAt ?? row.createdAt,
            coreThing: group.core.thingName,
            devices: group.devices.count,
            functions: group.functions.count,
            subscriptions: group.subscriptions.count,
            resources: group.resources.count
        )
    }

    /// The thing names of the deployed group's devices.
    public func deviceNames() -> Set<String> {
        Set(deployed?.group.devices.map(\.thingName) ?? [])
    }

    // MARK: Steps

    /// One deployment at a time: stages await (downloads take long), and the actor alone would let a second
    /// deployment interleave with the first at every await.
    private func apply(
        kind: DeploymentRecord.Kind,
        group: GroupDefinition?,
        source: String?,
        warnings: [String],
        started: Double
    ) async -> DeploymentRecord {
        while applying { await withCheckedContinuation { waiting.append($0) } }
        applying = true
        defer {
            applying = false
            if !waiting.isEmpty { waiting.removeFirst().resume() }
        }
        return await applyAlone(kind: kind, group: group, source: source, warnings: warnings, started: started)
    }

    private func applyAlone(
        kind: DeploymentRecord.Kind,
        group: GroupDefinition?,
        source: String?,
        warnings: [String],
        started: Double
    ) async -> DeploymentRecord {
        let digest = group?.digest
        // Model resources are checked at their source on every deployment (as V1 did), so an unchanged file with
        // one goes through the stages; an unchanged source costs a conditional request and changes nothing.
        if group != nil, kind == .deploy, let current = deployed, current.row.groupDigest == digest,
            !current.group.hasModelResources
        {
            // Redeploying what runs changes nothing: recorded, nothing staged.
            return await record(kind: kind, source: source, group: group, warnings: warnings, unchanged: true, started: started)
        }
        var prepared: [any PreparedStage] = []
        for stage in stages {
            do {
                prepared.append(try await stage.prepare(group))
            } catch {
                for stage in prepared { await stage.discard() }
                let detail: DeploymentRecord.ErrorDetail =
                    if let error = error as? DeploymentStageError {
                        .init(detailedErrorCode: error.code, detailedErrorMessage: error.message)
                    } else {
                        .init(detailedErrorCode: "StagingFailed", detailedErrorMessage: "\(error)")
                    }
                return await record(kind: kind, source: source, group: group, failure: [detail], warnings: warnings, started: started)
            }
        }
        let result = await record(kind: kind, source: source, group: group, warnings: warnings, switching: true, started: started)
        if result.status == .success {
            for stage in prepared { await stage.activate() }
        } else {
            for stage in prepared { await stage.discard() }
        }
        return result
    }

    /// Saves the deployment's outcome. With `switching`, it also becomes the deployment in effect, in the same
    /// transaction, so a restart restores exactly what was switched in.
    private func record(
        kind: DeploymentRecord.Kind,
        source: String?,
        group: GroupDefinition?,
        failure: [DeploymentRecord.ErrorDetail] = [],
        warnings: [String] = [],
        unchanged: Bool = false,
        switching: Bool = false,
        started: Double
    ) async -> DeploymentRecord {
        var record = DeploymentRecord(
            id: UUID().uuidString.lowercased(),
            sequence: 0,
            kind: kind,
            status: failure.isEmpty ? .success : .failure,
            source: source,
            groupDigest: group?.digest,
            errorDetails: failure,
            warnings: warnings,
            unchanged: unchanged,
            createdAt: started,
            finishedAt: Date().timeIntervalSince1970
        )
        do {
            record.sequence = try await database.nextDeploymentSequence()
            let row = Self.row(from: record, group: group)
            try await database.saveDeployment(row, deployed: switching ? .some(group == nil ? nil : row.id) : nil)
            if switching { deployed = group.map { (row, $0) } }
        } catch {
            record.status = .failure
            record.errorDetails.append(storeFailure(error))
        }
        logger.log(
            level: record.status == .success ? .info : .warning,
            "Deployment finished",
            metadata: [
                "deployment.id": "\(record.id)", "deployment.kind": "\(record.kind.rawValue)",
                "deployment.status": "\(record.status.rawValue)", "deployment.unchanged": "\(unchanged)",
                "deployment.errors": "\(record.errorDetails.map(\.detailedErrorMessage).joined(separator: "; "))",
            ]
        )
        return record
    }

    private func storeFailure(_ error: any Error) -> DeploymentRecord.ErrorDetail {
        .init(detailedErrorCode: "StoreFailed", detailedErrorMessage: "\(error)")
    }

    private static func row(from record: DeploymentRecord, group: GroupDefinition?) -> DeploymentRow {
        let details = try? JSONEncoder().encode(DetailsColumn(errorDetails: record.errorDetails, warnings: record.warnings, unchanged: record.unchanged))
        return DeploymentRow(
            id: record.id,
            sequence: record.sequence,
            kind: record.kind.rawValue,
            status: record.status.rawValue,
            groupJSON: group?.canonicalJSON(),
            groupDigest: record.groupDigest,
            source: record.source,
            errorDetails: details.map { String(decoding: $0, as: UTF8.self) },
            createdAt: record.createdAt,
            finishedAt: record.finishedAt
        )
    }

    static func record(from row: DeploymentRow) -> DeploymentRecord {
        let details = row.errorDetails.flatMap { try? JSONDecoder().decode(DetailsColumn.self, from: Data($0.utf8)) }
        return DeploymentRecord(
            id: row.id,
            sequence: row.sequence,
            kind: DeploymentRecord.Kind(rawValue: row.kind) ?? .deploy,
            status: DeploymentRecord.Status(rawValue: row.status) ?? .failure,
            source: row.source,
            groupDigest: row.groupDigest,
            errorDetails: details?.errorDetails ?? [],
            warnings: details?.warnings ?? [],
            unchanged: details?.unchanged ?? false,
            createdAt: row.createdAt,
            finishedAt: row.finishedAt
        )
    }

    /// The `error_details` column: V1's ErrorDetails plus the warnings and the no-op flag.
    private struct DetailsColumn: Codable {
        var errorDetails: [DeploymentRecord.ErrorDetail]
        var warnings: [String]
        var unchanged: Bool
    }
}

extension GroupDefinition {
    fileprivate var hasModelResources: Bool {
        resources.contains { if case .machineLearningModel = $0.kind { true } else { false } }
    }
}
