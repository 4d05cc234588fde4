import Foundation
import Logging
import MossTestSupport
import Testing

@testable import MossCore

@Suite("DataDirectory")
struct DataDirectoryTests {
    @Test func clientCommandsUseTheFlagThenTheEnvironmentThenTheDefault() {
        #expect(DataDirectory.resolve(flag: "/a", environment: ["MOSS_DATA_DIR": "/b"]).path == "/a")
        #expect(DataDirectory.resolve(flag: nil, environment: ["MOSS_DATA_DIR": "/b"]).path == "/b")
        #expect(DataDirectory.resolve(flag: nil, environment: ["MOSS_DATA_DIR": ""]).path.hasSuffix("/moss-data"))
        #expect(DataDirectory.resolve(flag: nil, environment: [:]).path == FileManager.default.currentDirectoryPath + "/moss-data")
    }

    @Test func layout() {
        let directory = DataDirectory(path: "/srv/moss/./data/")
        #expect(directory.path == "/srv/moss/data")
        #expect(directory.database == "/srv/moss/data/moss.sqlite")
        #expect(directory.adminSocket == "/srv/moss/data/moss.sock")
        #expect(directory.portsFile == "/srv/moss/data/ports.json")
        #expect(directory.certificates.path == "/srv/moss/data/certs")
    }

    @Test func aSocketPathTooLongForUnixIsRefusedBeforeStarting() async throws {
        try await withTemporaryDirectory { directory in
            let deep = directory + "/" + String(repeating: "d", count: 100)
            var configuration = CoreConfiguration(dataDirectory: deep)
            configuration.mqtt.port = 0
            await #expect(throws: DaemonError.socketPathTooLong(deep + "/moss.sock")) {
                try await MossDaemon(configuration: configuration, logger: Logger(label: "test")).run()
            }
        }
    }
}
