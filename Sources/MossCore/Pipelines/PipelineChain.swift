import MossInference

/// A pipeline's models, loaded and checked: each runs its default signature, which must take one tensor and give
/// one, and each output feeds the next model. Loading runs the chain once on zeros, so a model that cannot take
/// `[1, inputCount]` numbers, or the previous model's output, is refused at deployment rather than at run time.
struct PipelineChain: Sendable {
    struct Step: Sendable {
        /// The resource as the group names it, for messages.
        let resource: String
        let signature: ModelSignature
        let input: String
        let output: String
    }

    let steps: [Step]
    let inputCount: Int

    init(models: [(resource: String, directory: String)], inputCount: Int, threshold: Double?) throws(PipelineError) {
        var steps: [Step] = []
        for (resource, directory) in models {
            let signature: ModelSignature
            do {
                signature = try InferenceModel.load(path: directory).signature()
            } catch {
                throw PipelineError("model \(resource): \(error.message)")
            }
            guard signature.inputs.count == 1, signature.outputNames.count == 1 else {
                throw PipelineError(
                    "model \(resource): its signature \(signature.name) takes \(signature.inputs.count) inputs and gives "
                        + "\(signature.outputNames.count) outputs; a pipeline step takes one and gives one"
                )
            }
            steps.append(Step(resource: resource, signature: signature, input: signature.inputs[0].name, output: signature.outputNames[0]))
        }
        self.steps = steps
        self.inputCount = inputCount
        var sessions = makeSessions()
        let result = try run([Float](repeating: 0, count: inputCount), in: &sessions)
        if threshold != nil, result.count != 1 {
            throw PipelineError(
                "a threshold needs one number from the last model, but \(steps.last?.resource ?? "it") gives \(result.count)"
            )
        }
    }

    /// One session per step: each keeps its plan and buffers between runs.
    func makeSessions() -> [InferenceSession] { steps.map { $0.signature.makeSession() } }

    /// Runs the chain on one observation; the last model's output, flattened.
    func run(_ values: [Float], in sessions: inout [InferenceSession]) throws(PipelineError) -> [Float] {
        var tensor = Tensor(shape: [1, values.count], floats: values)
        for (index, step) in steps.enumerated() {
            do {
                guard let output = try sessions[index].run([step.input: tensor])[step.output] else {
                    throw PipelineError("model \(step.resource) gave no \(step.output)")
                }
                tensor = output
            } catch let error as InferenceError {
                let source = index == 0 ? "\(values.count) input numbers" : "the output of \(steps[index - 1].resource) \(tensor.shape)"
                throw PipelineError("model \(step.resource) cannot take \(source): \(error.message)")
            } catch let error as PipelineError {
                throw error
            } catch {
                throw PipelineError("model \(step.resource): \(error)")
            }
        }
        guard let floats = tensor.floats else {
            throw PipelineError("model \(steps.last?.resource ?? "") gives \(tensor.elementType) numbers; a pipeline needs float32")
        }
        return floats
    }
}

/// Why a pipeline could not be prepared or could not run once.
struct PipelineError: Error, CustomStringConvertible, Equatable {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}
