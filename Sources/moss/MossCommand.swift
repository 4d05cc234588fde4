import ArgumentParser
import MossCore

/// `moss`: the daemon (`run`) and the client commands that talk to it over the admin socket.
/// Later issues add their subcommands here (shadow, deploy, logs, demo, …), each in its own file.
@main
struct MossCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "moss",
        abstract: "A local AWS IoT Greengrass V1 core: MQTT broker, shadows, functions and inference on one gateway.",
        version: MossVersion.current,
        subcommands: [
            RunCommand.self, StatusCommand.self, DeployCommand.self, DeploymentsCommand.self, RollbackCommand.self,
            ResetCommand.self, ShadowCommand.self, LogsCommand.self, LaunchFunctionCommand.self, CertsCommand.self, Infer.self,
            ResourcesCommand.self, DemoCommand.self,
        ]
    )
}
