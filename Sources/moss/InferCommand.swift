import ArgumentParser
import MossInference

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `moss infer MODEL [--signature NAME] --input NAME=VALUES …`: runs a model's signature once and prints its outputs.
struct Infer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infer",
        abstract: "Run a model (TensorFlow SavedModel or ONNX) on inputs and print its outputs as JSON.",
        discussion: """
            VALUES is a JSON number, a JSON (nested) array whose nesting gives the shape, a comma list for rank 1 \
            (1005,21,78), or @FILE holding JSON. The output is one JSON object mapping each output name to a nested \
            array of its shape, like TensorFlow's .tolist().
            """
    )

    @Argument(help: "A SavedModel directory, an .onnx file, or a directory holding one .onnx file.")
    var model: String

    @Option(help: "The signature to run (default: serving_default, or the model's only signature).")
    var signature: String?

    @Option(
        name: .customLong("input"),
        help: ArgumentHelp("An input as NAME=VALUES; repeat for each input.", valueName: "name=values")
    )
    var inputs: [String] = []

    func run() async throws {
        do {
            let loaded = try InferenceModel.load(path: model)
            let chosen = try loaded.signature(named: signature)
            var tensors: [String: Tensor] = [:]
            for argument in inputs {
                guard let equals = argument.firstIndex(of: "=") else {
                    throw InferenceError(.invalidInput, "--input '\(argument)' is not NAME=VALUES")
                }
                let name = String(argument[..<equals])
                guard tensors[name] == nil else {
                    throw InferenceError(.invalidInput, "input '\(name)' is given twice")
                }
                tensors[name] = try Self.parseValues(String(argument[argument.index(after: equals)...]), input: name)
            }
            print(TensorJSON.format(try chosen.run(tensors)))
        } catch let error as InferenceError {
            var line = "moss infer: \(error.message)\n"
            line.withUTF8 { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
            throw ExitCode(1)
        }
    }

    private static func parseValues(_ text: String, input: String) throws(InferenceError) -> Tensor {
        var source = text
        if text.hasPrefix("@") {
            let path = String(text.dropFirst())
            guard let data = FileManager.default.contents(atPath: path) else {
                throw InferenceError(.invalidInput, "input '\(input)': cannot read \(path)")
            }
            source = String(decoding: data, as: UTF8.self)
        }
        do {
            return try TensorJSON.parse(source)
        } catch {
            throw InferenceError(.invalidInput, "input '\(input)': \(error.message)")
        }
    }
}
