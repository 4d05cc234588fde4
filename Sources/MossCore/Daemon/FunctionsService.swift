import Foundation
import Logging
import MossFunctions
import ServiceLifecycle

/// Runs the V1 IPC server for the function host; on graceful shutdown every worker is stopped.
struct FunctionsService: Service {
    let server: IPCServer
    let host: FunctionHost
    let port: Int
    let logger: Logger

    func run() async throws {
        let host = self.host
        let logger = self.logger
        try await withGracefulShutdownHandler {
            try await server.run(port: port) { bound in
                await host.start(ipcPort: bound, environment: Self.workerEnvironment())
                logger.info("Function IPC listening", metadata: ["ipc.port": "\(bound)"])
            }
        } onGracefulShutdown: {
            Task { await host.stopAll() }
        }
        await host.stopAll()
    }

    /// What every worker inherits from the daemon: a PATH and a locale, nothing else of its environment.
    static func workerEnvironment() -> [String: String] {
        let inherited = ProcessInfo.processInfo.environment
        var environment = ["PATH": inherited["PATH"] ?? "/usr/local/bin:/usr/bin:/bin", "PYTHONUNBUFFERED": "1"]
        for key in ["LANG", "LC_ALL", "HOME"] { environment[key] = inherited[key] }
        return environment
    }
}
