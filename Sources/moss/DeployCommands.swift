import ArgumentParser
import Foundation
import MossCore

/// Prints a deployment and exits non-zero when it failed.
enum DeploymentOutput {
    static func report(_ record: DeploymentRecord, json: Bool) throws {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(record), as: UTF8.self))
        } else {
            for warning in record.warnings { print(warning) }
            switch record.status {
            case .success:
                let what = record.kind == .reset ? "Reset" : record.unchanged ? "Unchanged (already deployed)" : "Deployed"
                print("\(what): deployment \(record.sequence) (\(record.id))" + (record.groupDigest.map { ", group \($0.prefix(12))" } ?? ""))
            case .failure, .inProgress:
                var lines = ["Deployment \(record.sequence) (\(record.id)) failed; nothing changed:"]
                lines += record.errorDetails.map(\.detailedErrorMessage)
                FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
            }
        }
        if record.status != .success { throw ExitCode.failure }
    }
}

/// `moss deploy FILE`.
struct DeployCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deploy",
        abstract: "Validate a group file and deploy it (devices, subscriptions, shadows; see docs/group.md).",
        discussion: "A file with errors is refused with every error named and changes nothing."
    )

    @Argument(help: "The group file (YAML or JSON).")
    var file: String

    @Flag(help: "Print the deployment as JSON.")
    var json = false

    @OptionGroup var dataDirectory: DataDirectoryOptions

    func run() async throws {
        let path = URL(fileURLWithPath: file).standardizedFileURL.path
        let client = AdminClient(dataDirectory: dataDirectory.resolved.path)
        let record =
            json
            ? try await client.deploy(file: path)
            : try await DeployProgress.whileRunning(client) { try await client.deploy(file: path) }
        try DeploymentOutput.report(record, json: json)
    }
}

/// `moss deployments`.
struct DeploymentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deployments",
        abstract: "List the deployments, oldest first, with their status."
    )

    @Flag(help: "Print the admin API's JSON.")
    var json = false

    @OptionGroup var dataDirectory: DataDirectoryOptions

    func run() async throws {
        let history = try await AdminClient(dataDirectory: dataDirectory.resolved.path).deployments()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(history), as: UTF8.self))
            return
        }
        guard !history.isEmpty else {
            print("No deployments.")
            return
        }
        let formatter = ISO8601DateFormatter()
        var rows: [[String]] = []
        for record in history {
            rows.append([
                "\(record.sequence)", record.id, record.kind.rawValue, record.status.rawValue + (record.unchanged ? " (unchanged)" : ""),
                formatter.string(from: Date(timeIntervalSince1970: record.createdAt)), String((record.groupDigest ?? "-").prefix(12)),
                record.source ?? "-",
            ])
        }
        let header = ["#", "ID", "KIND", "STATUS", "WHEN", "GROUP", "SOURCE"]
        for line in TextTable.render(header: header, rows: rows) { print(line) }
    }
}

/// `moss rollback [ID]`.
struct RollbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Deploy again the group of an earlier deployment (default: the last successful one before the current)."
    )

    @Argument(help: "The deployment to return to (an id from `moss deployments`).")
    var id: String?

    @Flag(help: "Print the deployment as JSON.")
    var json = false

    @OptionGroup var dataDirectory: DataDirectoryOptions

    func run() async throws {
        let client = AdminClient(dataDirectory: dataDirectory.resolved.path)
        try DeploymentOutput.report(try await client.rollback(to: id), json: json)
    }
}

/// `moss reset`.
struct ResetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reset",
        abstract: "V1's reset deployment: remove the group and delete every local shadow; keep the configuration and certificates."
    )

    @Flag(help: "Confirm: the shadows are deleted and cannot be recovered.")
    var yes = false

    @Flag(help: "Print the deployment as JSON.")
    var json = false

    @OptionGroup var dataDirectory: DataDirectoryOptions

    func validate() throws {
        guard yes else { throw ValidationError("`moss reset` deletes every local shadow and the deployed group; add --yes to confirm.") }
    }

    func run() async throws {
        let client = AdminClient(dataDirectory: dataDirectory.resolved.path)
        try DeploymentOutput.report(try await client.reset(), json: json)
    }
}
