import ArgumentParser
import Foundation
import MossCore
import MossResources

/// `moss resources`.
struct ResourcesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resources",
        abstract: "List the machine learning resources installed: source, version, size, sha256, last checked.",
        aliases: ["models"]
    )

    @Flag(help: "Print the admin API's JSON.")
    var json = false

    @OptionGroup var dataDirectory: DataDirectoryOptions

    func run() async throws {
        let resources = try await AdminClient(dataDirectory: dataDirectory.resolved.path).resources()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(resources), as: UTF8.self))
            return
        }
        guard !resources.isEmpty else {
            print("No resources installed.")
            return
        }
        let formatter = ISO8601DateFormatter()
        let rows = resources.map { resource in
            [
                resource.resourceId, resource.version, ByteCount.text(resource.packageBytes),
                ByteCount.text(resource.unpackedBytes), String((resource.sha256 ?? "-").prefix(16)),
                formatter.string(from: Date(timeIntervalSince1970: resource.lastChecked)), resource.source,
            ]
        }
        let header = ["ID", "VERSION", "PACKAGE", "UNPACKED", "SHA256", "LAST CHECKED", "SOURCE"]
        for line in TextTable.render(header: header, rows: rows) { print(line) }
    }
}

/// Sizes as people read them (powers of 1024).
enum ByteCount {
    static func text(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
    }
}
