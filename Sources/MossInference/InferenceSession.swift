/// Runs one signature repeatedly. The plan made for the first call's input shapes is kept, so later calls with the
/// same shapes only copy inputs in and outputs out. A session is not thread-safe: use one per task or thread.
public final class InferenceSession {
    public let signature: ModelSignature
    private var cached: (key: PlanKey, plan: ExecutionPlan)?
    /// Graph inputs that determine shapes (axes, target shapes, paddings): their values are part of the plan.
    private let staticInputValues: Set<Int>

    private struct PlanKey: Hashable {
        var shapes: [[Int]]
        var statics: [Tensor]
    }

    init(signature: ModelSignature) {
        self.signature = signature
        var statics = Set<Int>()
        let inputValues = Set(signature.graph.inputs.map(\.value))
        for node in signature.graph.nodes {
            for operand in node.op.staticOperands {
                let index = operand < 0 ? node.inputs.count + operand : operand
                if index >= 0, index < node.inputs.count, let value = node.inputs[index], inputValues.contains(value) {
                    statics.insert(value)
                }
            }
        }
        staticInputValues = statics
    }

    /// Runs the signature on named inputs and returns its outputs by name.
    public func run(_ inputs: [String: Tensor]) throws(InferenceError) -> [String: Tensor] {
        let plan = try plan(for: inputs)
        for binding in plan.inputs {
            guard let floats = inputs[binding.name]?.floats else {
                throw InferenceError(.invalidInput, "input '\(binding.name)' must be float32")
            }
            let buffer = plan.buffer(binding)
            _ = buffer.update(fromContentsOf: floats)
        }
        plan.run()
        var outputs: [String: Tensor] = [:]
        for binding in plan.outputs {
            outputs[binding.name] = Tensor(shape: binding.shape, floats: Array(plan.buffer(binding)))
        }
        return outputs
    }

    /// Plans for fixed input shapes and returns buffers to run on without allocating: write the inputs, call
    /// ``PreparedInference/run()``, read the outputs. Inputs that determine shapes must be given as tensors in `statics`.
    public func prepare(
        shapes: [String: [Int]],
        statics: [String: Tensor] = [:]
    ) throws(InferenceError) -> PreparedInference {
        var placeholders = statics
        for (name, shape) in shapes {
            placeholders[name] = Tensor(shape: shape, floats: [Float](repeating: 0, count: shape.elementCount))
        }
        return PreparedInference(plan: try plan(for: placeholders))
    }

    private func plan(for inputs: [String: Tensor]) throws(InferenceError) -> ExecutionPlan {
        let graph = signature.graph
        for name in inputs.keys where !graph.inputs.contains(where: { $0.name == name }) {
            throw InferenceError(
                .invalidInput,
                "unknown input '\(name)'; the signature's inputs are \(graph.inputs.map(\.name).joined(separator: ", "))"
            )
        }
        var key = PlanKey(shapes: [], statics: [])
        var shapes: [Int: [Int]] = [:]
        var staticTensors: [Int: Tensor] = [:]
        for input in graph.inputs {
            guard let tensor = inputs[input.name] else {
                throw InferenceError(.invalidInput, "missing input '\(input.name)'")
            }
            try check(tensor, against: input)
            key.shapes.append(tensor.shape)
            if staticInputValues.contains(input.value) {
                staticTensors[input.value] = tensor
                key.statics.append(tensor)
            } else {
                shapes[input.value] = tensor.shape
            }
        }
        if let cached, cached.key == key { return cached.plan }
        let plan = try Planner.makePlan(graph: graph, inputShapes: shapes, staticInputs: staticTensors)
        cached = (key, plan)
        return plan
    }

    private func check(_ tensor: Tensor, against input: Graph.Input) throws(InferenceError) {
        guard tensor.elementType == input.elementType else {
            throw InferenceError(
                .invalidInput,
                "input '\(input.name)' is \(tensor.elementType), the signature expects \(input.elementType)"
            )
        }
        guard let declared = input.shape else { return }
        func matches(_ shape: ArraySlice<Int>) -> Bool {
            shape.count == declared.count && zip(shape, declared).allSatisfy { $1 == nil || $0 == $1 }
        }
        if matches(tensor.shape[...]) { return }
        // TensorFlow accepts a batch of one for an unbatched signature (the tutorial's Lambda relies on it).
        if signature.graph.acceptsLeadingUnitDimension, tensor.shape.first == 1, matches(tensor.shape.dropFirst()) {
            return
        }
        let expected = "(" + declared.map { $0.map(String.init) ?? "-1" }.joined(separator: ", ") + ")"
        throw InferenceError(
            .invalidInput,
            "input '\(input.name)' has shape \(tensor.shape), the signature expects \(expected)"
        )
    }
}

/// A plan bound to fixed input shapes, with direct access to its input and output buffers.
public final class PreparedInference {
    private let plan: ExecutionPlan

    init(plan: ExecutionPlan) { self.plan = plan }

    public var inputNames: [String] { plan.inputs.map(\.name) }
    public var outputNames: [String] { plan.outputs.map(\.name) }

    /// The buffer of input `name`, to write before ``run()``. It stays valid as long as this object.
    public func inputBuffer(_ name: String) -> UnsafeMutableBufferPointer<Float>? {
        plan.inputs.first { $0.name == name }.map(plan.buffer)
    }

    /// The buffer of output `name`, valid after ``run()`` until the next run.
    public func outputBuffer(_ name: String) -> UnsafeBufferPointer<Float>? {
        plan.outputs.first { $0.name == name }.map { UnsafeBufferPointer(plan.buffer($0)) }
    }

    public func outputShape(_ name: String) -> [Int]? { plan.outputs.first { $0.name == name }?.shape }

    /// Runs the plan on the current contents of the input buffers. Allocates nothing.
    public func run() { plan.run() }
}
