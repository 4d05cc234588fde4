extension Graph {
    /// Computes, at load time, every node whose inputs are all constants (ReadVariableOp's identities, arithmetic on
    /// weights such as Keras's `gamma + 1`), so later passes see weights as constants and runs skip the work.
    /// A node that cannot be evaluated now is left for the planner, which reports the problem with its name.
    mutating func foldConstants() {
        var folded = Set<Int>()
        for (index, node) in nodes.enumerated() {
            guard !node.outputs.isEmpty, node.inputs.allSatisfy({ $0.map { constants[$0] != nil } ?? true }) else {
                continue
            }
            let inputs = node.inputs.map { $0.flatMap { constants[$0] } }
            if node.op.isView {
                var statics: [Int: Tensor] = [:]
                for operand in node.op.staticOperands where operand >= 0 && operand < inputs.count {
                    statics[operand] = inputs[operand]
                }
                guard let source = inputs[0],
                    let shape = try? ShapeInference.outputShapes(
                        node.op,
                        inputs: inputs.map { $0?.shape },
                        statics: statics
                    ).first
                else { continue }
                constants[node.outputs[0]] = source.reshaped(shape)
                folded.insert(index)
                continue
            }
            guard let results = try? Self.evaluate(node, inputs: inputs) else { continue }
            for (output, tensor) in zip(node.outputs, results) { constants[output] = tensor }
            folded.insert(index)
        }
        nodes = nodes.enumerated().filter { !folded.contains($0.offset) }.map(\.element)
    }

    /// Runs one node on constant inputs through the ordinary planner and kernels.
    private static func evaluate(_ node: Node, inputs: [Tensor?]) throws -> [Tensor] {
        var graph = Graph()
        let operands = inputs.enumerated().map { index, tensor in
            tensor.map { graph.addConstant($0, named: "c\(index)") }
        }
        let outputs = node.outputs.map { _ in graph.addValue(named: node.name) }
        graph.nodes = [Node(name: node.name, op: node.op, inputs: operands, outputs: outputs)]
        graph.outputs = outputs.enumerated().map { Output(name: "\($0.offset)", value: $0.element) }
        let plan = try Planner.makePlan(graph: graph, inputShapes: [:], staticInputs: [:])
        plan.run()
        return plan.outputs.map { Tensor(shape: $0.shape, floats: Array(plan.buffer($0))) }
    }
}
