import ArgumentParser

/// The `moss` command. (On the inference branch only the subcommand it adds is registered here.)
@main
struct MossCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "moss",
        abstract: "A Greengrass V1 core replacement for IoT gateways.",
        subcommands: [Infer.self]
    )
}
