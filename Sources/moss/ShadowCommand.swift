import ArgumentParser
import Foundation
import MossCore
import MossShadow

/// `moss shadow`: the local Device Shadow service through the admin API.
struct ShadowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shadow",
        abstract: "Read and change the local Device Shadows.",
        discussion: """
            The documents are AWS IoT's: `update` takes an update request such as
            '{"state":{"desired":{"color":"red"}}}' and prints the accepted document; a refusal prints AWS's
            code and message (e.g. 409 Version conflict) and exits non-zero.
            """,
        subcommands: [Get.self, Update.self, Delete.self, List.self]
    )

    struct Target: ParsableArguments {
        @Argument(help: "The thing name.")
        var thing: String

        @Option(name: .long, help: "A named shadow of the thing (default: the classic shadow).")
        var name: String?
    }

    struct Output: ParsableArguments {
        @Flag(help: "Print the document as the service sent it (compact JSON) instead of indented.")
        var json = false

        func print(_ body: [UInt8]) {
            if !json, let value = try? JSONParser.parse(body) {
                Swift.print(JSONWriter.prettyPrinted(value))
            } else {
                Swift.print(String(decoding: body, as: UTF8.self))
            }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a shadow (state, delta, metadata, version).")

        @OptionGroup var target: Target
        @OptionGroup var output: Output
        @OptionGroup var dataDirectory: DataDirectoryOptions

        func run() async throws {
            let client = AdminClient(dataDirectory: dataDirectory.resolved.path)
            output.print(try await client.shadow(.get, thing: target.thing, name: target.name))
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply an update request document and print the accepted document."
        )

        @OptionGroup var target: Target

        @Argument(help: "The update request, e.g. '{\"state\":{\"reported\":{\"on\":true}}}'; - reads it from standard input.")
        var document: String

        @OptionGroup var output: Output
        @OptionGroup var dataDirectory: DataDirectoryOptions

        func run() async throws {
            let payload: [UInt8] =
                document == "-" ? Array(FileHandle.standardInput.readDataToEndOfFile()) : Array(document.utf8)
            let client = AdminClient(dataDirectory: dataDirectory.resolved.path)
            output.print(try await client.shadow(.update, thing: target.thing, name: target.name, payload: payload))
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a shadow and print its last version.")

        @OptionGroup var target: Target
        @OptionGroup var output: Output
        @OptionGroup var dataDirectory: DataDirectoryOptions

        func run() async throws {
            let client = AdminClient(dataDirectory: dataDirectory.resolved.path)
            output.print(try await client.shadow(.delete, thing: target.thing, name: target.name))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the shadows (all things, or one thing's classic and named shadows) with their versions."
        )

        @Argument(help: "Only this thing's shadows.")
        var thing: String?

        @Flag(help: "Print the admin API's JSON instead of a table.")
        var json = false

        @OptionGroup var dataDirectory: DataDirectoryOptions

        func run() async throws {
            let client = AdminClient(dataDirectory: dataDirectory.resolved.path)
            let body = try await client.listShadows(thing: thing)
            guard !json else {
                print(String(decoding: body, as: UTF8.self))
                return
            }
            guard case .object(let root)? = try? JSONParser.parse(body), case .array(let shadows)? = root["shadows"] else {
                throw ValidationError("Moss sent a shadow list this client does not understand")
            }
            var rows: [[String]] = []
            for case .object(let shadow) in shadows {
                let thing = if case .string(let text)? = shadow["thing"] { text } else { "?" }
                let name = if case .string(let text)? = shadow["name"] { text } else { "(classic)" }
                let version = if case .number(let number)? = shadow["version"] { number.text } else { "?" }
                rows.append([thing, name, version])
            }
            if rows.isEmpty {
                print(thing.map { "No shadows for \($0)." } ?? "No shadows.")
                return
            }
            for line in TextTable.render(header: ["THING", "SHADOW", "VERSION"], rows: rows) { print(line) }
        }
    }
}
