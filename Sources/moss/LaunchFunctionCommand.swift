import ArgumentParser
import Foundation
import MossFunctions

/// `moss launch-function --spec FILE` (internal): the daemon starts a containerized worker through this, in a fresh
/// process, so that the mount namespace, the container's root and the user switch are set up before the worker runs.
struct LaunchFunctionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "launch-function",
        abstract: "Internal: set up a function container and execute its worker.",
        shouldDisplay: false
    )

    @Option(help: "The container specification (JSON) the daemon wrote.")
    var spec: String

    func run() throws {
        guard let data = FileManager.default.contents(atPath: spec) else {
            throw ValidationError("cannot read \(spec)")
        }
        let container = try JSONDecoder().decode(ContainerSpec.self, from: data)
        ContainerLauncher.run(container)
    }
}
