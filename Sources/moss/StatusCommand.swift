import ArgumentParser
import Foundation
import MossCloud
import MossCore

/// `moss status`: what the running daemon is doing.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the running daemon's listeners, clients, sessions and counters."
    )

    @OptionGroup var dataDirectory: DataDirectoryOptions

    @Flag(help: "Print the admin API's JSON instead of a table.")
    var json = false

    func run() async throws {
        let status = try await AdminClient(dataDirectory: dataDirectory.resolved.path).status()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(status), as: UTF8.self))
        } else {
            print(StatusTable.render(status))
        }
    }
}

/// The human-readable form of ``AdminStatus``.
enum StatusTable {
    static func render(_ status: AdminStatus) -> String {
        var lines = [
            "Moss \(status.version), up \(duration(status.uptimeSeconds)), data in \(status.dataDirectory)",
            "",
            "Listeners",
        ]
        lines += table(
            header: ["NAME", "ADDRESS", "TLS"],
            rows: status.listeners.map { [$0.name, "\($0.host):\($0.port)", $0.tls ? "mutual" : "no"] }
        )
        lines += ["", "Clients: \(status.clients.count) connected, \(status.sessions) sessions"]
        if !status.clients.isEmpty {
            let now = Date().timeIntervalSince1970
            lines += table(
                header: ["CLIENT ID", "IDENTITY", "LISTENER", "PEER", "MQTT", "CONNECTED"],
                rows: status.clients.map {
                    [
                        $0.clientID, $0.identity, $0.listener, $0.peer, $0.protocolVersion,
                        duration(now - $0.connectedAt) + " ago",
                    ]
                }
            )
        }
        lines += [
            "",
            "Retained messages: \(status.retainedMessages)",
            "Messages: \(status.messages.received) received, \(status.messages.sent) sent, \(status.messages.dropped) dropped",
        ]
        if let group = status.group {
            lines.append(
                "Group: deployment \(group.sequence) (\(group.deploymentId)), core \(group.coreThing), "
                    + "\(group.devices) devices (\(status.groupDevicesConnected ?? 0) connected), \(group.functions) functions, "
                    + "\(group.subscriptions) subscriptions, \(group.resources) resources"
            )
            if let routing = status.routing {
                let why = status.cloud == nil ? " (routed to cloud, which is not configured)" : ""
                lines.append("Routing: \(routing.refused) refused, \(routing.undeliverable) undeliverable\(why)")
            }
            if let functions = status.functions, !functions.isEmpty {
                lines.append("Functions")
                lines += table(header: ["NAME", "WORKERS"], rows: functions.map { [$0.name, $0.workers.joined(separator: ", ")] })
            }
            if let pipelines = status.pipelines, !pipelines.isEmpty {
                lines.append("Pipelines")
                let now = Date().timeIntervalSince1970
                lines += table(
                    header: ["ID", "INPUT", "OUTPUT", "RUNS", "FAILED", "DROPPED", "LAST", "LAST RESULT", "ERROR"],
                    rows: pipelines.map {
                        [
                            $0.id, $0.input, $0.output, String($0.runs), String($0.failures), String($0.dropped),
                            $0.lastRunAt.map { duration(now - $0) + " ago" } ?? "never",
                            $0.lastResult.map { $0.map { String(format: "%g", $0) }.joined(separator: ", ") } ?? "-",
                            $0.lastError ?? "",
                        ]
                    }
                )
            }
        } else {
            lines.append("Group: none deployed (an ordinary broker)")
        }
        if let cloud = status.cloud {
            lines += cloudLines(cloud)
        } else {
            lines.append("Cloud: not configured")
        }
        if let shadows = status.shadows {
            lines.append(
                "Shadow requests: \(shadows.requests) applied in \(shadows.commits) commits, "
                    + "\(shadows.refusedRequests) refused, \(shadows.failedCommits) failed commits"
            )
        }
        return lines.joined(separator: "\n")
    }

    private static func cloudLines(_ cloud: AdminStatus.Cloud) -> [String] {
        let connection = cloud.connection
        let since = duration(Date().timeIntervalSince1970 - connection.since)
        var lines = [
            "Cloud: \(connection.state.rawValue) to \(connection.endpoint) as \(connection.clientID ?? "(no client id yet)") "
                + "for \(since), \(connection.connections) connections, \(connection.subscriptions) subscriptions"
        ]
        if connection.state != .connected, let error = connection.lastError { lines.append("  last error: \(error)") }
        let spool = cloud.spool
        lines.append(
            "Spool: \(spool.depth) messages (\(spool.bytes) of \(spool.maximumBytes) bytes), \(spool.inflight) in flight, "
                + "\(spool.delivered) delivered, \(spool.dropped) dropped"
        )
        if let problem = cloud.shadowSyncProblem { lines.append("Shadow sync: off, \(problem)") }
        if !cloud.shadowSync.isEmpty {
            lines.append("Shadow sync")
            let now = Date().timeIntervalSince1970
            lines += table(
                header: ["THING", "SHADOW", "DIRECTION", "STATE", "LOCAL", "CLOUD", "SYNCED", "ERROR"],
                rows: cloud.shadowSync.map {
                    [
                        $0.thing, $0.name ?? "(classic)", $0.direction.rawValue, $0.state.rawValue,
                        $0.localVersion.map(String.init) ?? "-", $0.cloudVersion.map(String.init) ?? "-",
                        $0.syncedAt.map { duration(now - $0) + " ago" } ?? "never", $0.lastError ?? "",
                    ]
                }
            )
        }
        return lines
    }

    private static func table(header: [String], rows: [[String]]) -> [String] {
        TextTable.render(header: header, rows: rows, indent: "  ")
    }

    static func duration(_ seconds: Double) -> String {
        let total = max(0, Int(seconds))
        let (days, hours, minutes, secs) = (total / 86_400, total / 3600 % 24, total / 60 % 60, total % 60)
        if days > 0 { return "\(days)d \(hours)h \(minutes)m" }
        if hours > 0 { return "\(hours)h \(minutes)m \(secs)s" }
        if minutes > 0 { return "\(minutes)m \(secs)s" }
        return "\(secs)s"
    }
}
