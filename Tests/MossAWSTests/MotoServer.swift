import Foundation
import MossAWS
import MossTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `moto_server` (the AWS stand-in from `pip install 'moto[server]'`) on a free loopback port.
enum MotoServer {
    /// The `moto_server` executable on PATH, if installed.
    static let executable: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/moto_server" }.first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }()

    static var isAvailable: Bool { executable != nil }

    /// Dummy keys: moto accepts any, and the requests are still signed for real.
    static let credentials = AWSCredentials(accessKeyID: "AKIDMOTOTEST", secretAccessKey: "moto/secret+key")

    /// Starts moto on a free port, waits until it answers, runs `body` with its endpoint, and stops it.
    /// `environment` is added to the test runner's (moto reads settings such as `INITIAL_NO_AUTH_ACTION_COUNT`).
    static func with<T>(
        environment: [String: String] = [:],
        _ body: (AWSEndpoint) async throws -> T
    ) async throws -> T {
        let executable = try #require(executable)
        return try await withTemporaryDirectory { directory in
            let port = try freePort()
            let log = "\(directory)/moto.log"
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = ["-H", "127.0.0.1", "-p", String(port)]
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            process.standardError = process.standardOutput
            try process.run()
            do {
                do {
                    try await waitUntil("moto_server answers on 127.0.0.1:\(port)", timeout: .seconds(60)) {
                        guard process.isRunning else { throw MotoExited(log: contents(of: log)) }
                        return canConnect(port: port)
                    }
                } catch let error as TimedOut {
                    throw MotoExited(log: "\(error)\n" + contents(of: log))
                }
                let result = try await body(AWSEndpoint(scheme: "http", host: "127.0.0.1", port: port))
                try await stop(process)
                return result
            } catch {
                try? await stop(process)
                throw error
            }
        }
    }

    /// SIGKILL, because a child of the test runner inherits its blocked signal mask, SIGTERM included, and moto keeps
    /// nothing worth a graceful stop. Waits without blocking a thread of the (two-thread) cooperative pool.
    private static func stop(_ process: Process) async throws {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        try await waitUntil("moto_server exited") { !process.isRunning }
        process.waitUntilExit()
    }

    private static func contents(of path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    struct MotoExited: Error, CustomStringConvertible {
        var log: String
        var description: String { "moto_server did not start:\n\(log)" }
    }

    /// A port the kernel just handed out on 127.0.0.1 (closed again, so moto can bind it).
    static func freePort() throws -> Int {
        let socket = try socketOrThrow()
        defer { close(socket) }
        var address = loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func canConnect(port: Int) -> Bool {
        guard let socket = try? socketOrThrow() else { return false }
        defer { close(socket) }
        var address = loopback(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        } == 0
    }

    private static func socketOrThrow() throws -> Int32 {
        #if canImport(Glibc)
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let socket = Darwin.socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard socket >= 0 else { throw POSIXError(.EMFILE) }
        return socket
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}
