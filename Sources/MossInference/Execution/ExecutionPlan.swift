/// A graph specialised to concrete input shapes (and the values of inputs that determine shapes): every buffer
/// laid out once in one arena and every kernel bound to its buffers, so running it allocates nothing.
final class ExecutionPlan {
    /// Where a graph input or output lives in the arena.
    struct Binding {
        var name: String
        var offset: Int
        var shape: [Int]
        var count: Int { shape.elementCount }
    }

    let inputs: [Binding]
    let outputs: [Binding]
    let arena: Arena
    private let kernels: [Kernel]

    init(inputs: [Binding], outputs: [Binding], arena: Arena, kernels: [Kernel]) {
        self.inputs = inputs
        self.outputs = outputs
        self.arena = arena
        self.kernels = kernels
    }

    func run() {
        for kernel in kernels { kernel() }
    }

    func buffer(_ binding: Binding) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: arena.base + binding.offset, count: binding.count)
    }
}

/// One step of a plan.
typealias Kernel = () -> Void

/// Builds an ``ExecutionPlan``: shapes, static folding of views over constants, buffer lifetimes, kernels.
enum Planner {
    static func makePlan(
        graph: Graph,
        inputShapes: [Int: [Int]],
        staticInputs: [Int: Tensor]
    ) throws(InferenceError) -> ExecutionPlan {
        var known = graph.constants.merging(staticInputs) { $1 }
        var shapes = [[Int]?](repeating: nil, count: graph.valueCount)
        for (value, tensor) in known { shapes[value] = tensor.shape }
        for (value, shape) in inputShapes { shapes[value] = shape }

        func failure(_ node: Graph.Node, _ message: String) -> InferenceError {
            InferenceError(.invalidOperation, "node '\(node.name)' (\(node.op.name)): \(message)")
        }

        // Shapes, static operands, and views of known tensors folded away.
        var nodeStatics: [[Int: Tensor]] = []
        var folded = [Bool](repeating: false, count: graph.nodes.count)
        for (index, node) in graph.nodes.enumerated() {
            var statics: [Int: Tensor] = [:]
            for rawOperand in node.op.staticOperands {
                let operand = rawOperand < 0 ? node.inputs.count + rawOperand : rawOperand
                guard operand >= 0, operand < node.inputs.count, let value = node.inputs[operand] else { continue }
                guard let tensor = known[value] else {
                    throw failure(node, "operand \(operand) ('\(graph.valueNames[value])') must be a constant")
                }
                statics[operand] = tensor
            }
            nodeStatics.append(statics)
            let outputShapes: [[Int]]
            do {
                outputShapes = try ShapeInference.outputShapes(
                    node.op,
                    inputs: node.inputs.map { $0.flatMap { shapes[$0] } },
                    statics: statics
                )
            } catch {
                throw failure(node, error.message)
            }
            for (output, shape) in zip(node.outputs, outputShapes) { shapes[output] = shape }
            if node.op.isView, let source = node.inputs[0], let tensor = known[source] {
                known[node.outputs[0]] = tensor.reshaped(outputShapes[0])
                folded[index] = true
            }
        }

        // Storage: a view shares its input's buffer.
        var root = Array(0..<graph.valueCount)
        for (index, node) in graph.nodes.enumerated() where node.op.isView && !folded[index] {
            root[node.outputs[0]] = root[node.inputs[0]!]
        }
        var persistent = Set<Int>()
        for input in graph.inputs where staticInputs[input.value] == nil { persistent.insert(root[input.value]) }
        for output in graph.outputs { persistent.insert(root[output.value]) }
        var lastUse: [Int: Int] = [:]
        for (index, node) in graph.nodes.enumerated() where !folded[index] {
            let statics = Set(nodeStatics[index].keys)
            for (operand, value) in node.inputs.enumerated() {
                guard let value, !statics.contains(operand) else { continue }
                let storage = root[value]
                if known[storage] != nil { persistent.insert(storage) }
                lastUse[storage] = index
            }
            for output in node.outputs where root[output] == output {
                lastUse[output] = Swift.max(lastUse[output] ?? index, index)
            }
        }

        var allocator = ArenaAllocator()
        var offsets: [Int: Int] = [:]
        for storage in persistent.sorted() {
            guard let shape = shapes[storage] else { continue }
            offsets[storage] = allocator.allocate(shape.elementCount)
        }
        var scratchOffsets: [Int: (offset: Int, count: Int)] = [:]
        var dying: [Int: [Int]] = [:]
        for (storage, index) in lastUse where !persistent.contains(storage) {
            dying[index, default: []].append(storage)
        }
        for (index, node) in graph.nodes.enumerated() where !folded[index] {
            for output in node.outputs where root[output] == output && offsets[output] == nil {
                offsets[output] = allocator.allocate(shapes[output]!.elementCount)
            }
            let scratch = KernelFactory.scratchCount(
                node.op,
                inputShapes: node.inputs.map { $0.flatMap { shapes[$0] } },
                outputShapes: node.outputs.map { shapes[$0]! }
            )
            if scratch > 0 {
                let offset = allocator.allocate(scratch)
                scratchOffsets[index] = (offset, scratch)
                allocator.release(offset: offset, count: scratch)
            }
            for storage in dying[index] ?? [] {
                allocator.release(offset: offsets[storage]!, count: shapes[storage]!.elementCount)
            }
        }

        let arena = Arena(count: allocator.highWater)
        for storage in persistent where known[storage] != nil {
            guard let floats = known[storage]!.floats else {
                throw InferenceError(
                    .invalidOperation,
                    "'\(graph.valueNames[storage])' is \(known[storage]!.elementType) where float32 is needed"
                )
            }
            floats.withUnsafeBufferPointer { source in
                (arena.base + offsets[storage]!).update(from: source.baseAddress!, count: source.count)
            }
        }

        func pointer(_ value: Int) -> UnsafeMutablePointer<Float>? {
            offsets[root[value]].map { arena.base + $0 }
        }

        var kernels: [Kernel] = []
        for (index, node) in graph.nodes.enumerated() where !folded[index] {
            let statics = nodeStatics[index]
            let context = KernelContext(
                inputs: node.inputs.enumerated().map { operand, value in
                    guard let value, statics[operand] == nil else { return nil }
                    return pointer(value)
                },
                inputShapes: node.inputs.map { $0.flatMap { shapes[$0] } },
                outputs: node.outputs.map { pointer($0)! },
                outputShapes: node.outputs.map { shapes[$0]! },
                statics: statics,
                scratch: scratchOffsets[index].map { arena.base + $0.offset },
                constant: node.inputs.map { value in value.map { known[$0] != nil || known[root[$0]] != nil } ?? false }
            )
            do {
                if let kernel = try KernelFactory.makeKernel(node.op, context) { kernels.append(kernel) }
            } catch {
                throw failure(node, error.message)
            }
        }

        var outputs: [ExecutionPlan.Binding] = []
        for output in graph.outputs {
            if let tensor = known[output.value], tensor.floats == nil {
                throw InferenceError(
                    .invalidOperation,
                    "output '\(output.name)' is \(tensor.elementType); only float32 outputs are supported"
                )
            }
            outputs.append(.init(name: output.name, offset: offsets[root[output.value]]!, shape: shapes[output.value]!))
        }
        let inputs = graph.inputs.compactMap { input -> ExecutionPlan.Binding? in
            guard staticInputs[input.value] == nil, let offset = offsets[root[input.value]] else { return nil }
            return .init(name: input.name, offset: offset, shape: shapes[input.value]!)
        }
        return ExecutionPlan(inputs: inputs, outputs: outputs, arena: arena, kernels: kernels)
    }
}

extension Operator {
    /// A short name for messages.
    var name: String {
        switch self {
        case .identity: "Identity"
        case .binary(let op):
            switch op {
            case .add: "Add"
            case .sub: "Sub"
            case .mul: "Mul"
            case .div: "Div"
            }
        case .unary(let op):
            switch op {
            case .sigmoid: "Sigmoid"
            case .relu: "Relu"
            case .tanh: "Tanh"
            }
        case .clip: "Clip"
        case .matMul: "MatMul"
        case .gemm: "Gemm"
        case .softmax: "Softmax"
        case .convolution: "Conv"
        case .batchNormalization: "BatchNormalization"
        case .pool(let pool): pool.kind == .max ? "MaxPool" : "AveragePool"
        case .reduceMean: "ReduceMean"
        case .globalAveragePool: "GlobalAveragePool"
        case .pad: "Pad"
        case .reshape: "Reshape"
        case .squeeze: "Squeeze"
        case .unsqueeze: "Unsqueeze"
        case .flatten: "Flatten"
        case .transpose: "Transpose"
        case .concat: "Concat"
        }
    }
}
