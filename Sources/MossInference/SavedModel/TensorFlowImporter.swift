/// Lowers one SavedModel signature to the IR: follows the signature's output tensors back through the graph,
/// inlines every (Stateful)PartitionedCall's function body, binds variables to checkpoint tensors, and maps each
/// TensorFlow op to an IR operator. An op outside the supported set fails here, naming op, node and function.
final class TensorFlowImporter {
    /// What a TensorFlow tensor turned into.
    private enum Ref {
        case value(Int)
        /// A resource handle: the name of the top-level VarHandleOp it came from.
        case variable(String)
    }

    /// A graph body: the top-level graph, or one inlined instance of a function.
    private final class Scope {
        let nodes: [String: Tensorflow_NodeDef]
        let arguments: [String: Ref]
        let function: String?
        var evaluated: [String: [Ref]] = [:]

        init(nodes: [Tensorflow_NodeDef], arguments: [String: Ref], function: String?) {
            self.nodes = Dictionary(nodes.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
            self.arguments = arguments
            self.function = function
        }

        func location(_ node: Tensorflow_NodeDef) -> String {
            "node '\(node.name)'" + (function.map { " in function '\($0)'" } ?? "")
        }
    }

    private let metaGraph: Tensorflow_MetaGraphDef
    private let bundle: TensorBundle?
    private let functions: [String: Tensorflow_FunctionDef]
    private lazy var checkpointKeys: [String: String] = variableCheckpointKeys()

    // Per-signature state.
    private var graph = Graph()
    private var placeholders: [String: Int] = [:]
    private var variableValues: [String: Int] = [:]
    private var depth = 0

    init(metaGraph: Tensorflow_MetaGraphDef, bundle: TensorBundle?) {
        self.metaGraph = metaGraph
        self.bundle = bundle
        functions = Dictionary(
            metaGraph.graphDef.library.function.map { ($0.signature.name, $0) },
            uniquingKeysWith: { first, _ in first }
        )
    }

    func signature(named name: String, _ signature: Tensorflow_SignatureDef) throws(InferenceError) -> ModelSignature {
        graph = Graph()
        graph.acceptsLeadingUnitDimension = true
        placeholders = [:]
        variableValues = [:]
        var inputs: [TensorSpec] = []
        for (key, info) in signature.inputs.sorted(by: { $0.key < $1.key }) {
            guard let type = TensorDecoding.elementType(info.dtype) else {
                throw InferenceError(
                    .unsupportedOperator,
                    "input '\(key)' has element type \(info.dtype), which is not supported"
                )
            }
            let shape: [Int?]? =
                info.tensorShape.unknownRank ? nil : info.tensorShape.dim.map { $0.size < 0 ? nil : Int($0.size) }
            let value = graph.addValue(named: key)
            graph.inputs.append(.init(name: key, value: value, elementType: type, shape: shape))
            placeholders[Self.nodeName(of: info.name)] = value
            inputs.append(TensorSpec(name: key, elementType: type, shape: shape))
        }
        let top = Scope(nodes: metaGraph.graphDef.node, arguments: [:], function: nil)
        for (key, info) in signature.outputs.sorted(by: { $0.key < $1.key }) {
            guard case .value(let value) = try resolve(info.name, in: top) else {
                throw InferenceError(.invalidModel, "output '\(key)' is a resource, not a tensor")
            }
            graph.outputs.append(.init(name: key, value: value))
        }
        graph.foldConstants()
        graph.fuseConvolutions()
        graph.removeDeadNodes()
        return ModelSignature(name: name, inputs: inputs, outputNames: graph.outputs.map(\.name), graph: graph)
    }

    private static func nodeName(of tensorName: String) -> String {
        String(tensorName.split(separator: ":", maxSplits: 1).first ?? "")
    }

    // MARK: - Resolving tensor names

    /// Resolves `node`, `node:k` (top-level graphs) or `arg`, `node:out_arg:k` (function bodies).
    private func resolve(_ tensorName: String, in scope: Scope) throws(InferenceError) -> Ref {
        let parts = tensorName.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 1, let argument = scope.arguments[parts[0]] { return argument }
        guard let node = scope.nodes[parts[0]] else {
            throw InferenceError(
                .invalidModel,
                "tensor '\(tensorName)' names no node" + (scope.function.map { " in function '\($0)'" } ?? "")
            )
        }
        let outputs = try evaluate(node, in: scope)
        var index = 0
        if parts.count == 2 {
            index = Int(parts[1]) ?? -1
        } else if parts.count == 3 {
            index = (Int(parts[2]) ?? -1) + (Self.outputArgumentOffsets[node.op]?[parts[1]] ?? 0)
        }
        guard index >= 0, index < outputs.count else {
            throw InferenceError(
                .unsupportedOperator,
                "output '\(tensorName)' of \(node.op) (\(scope.location(node))) is not supported"
            )
        }
        return outputs[index]
    }

    /// Where each named output argument starts, for ops with more than one.
    private static let outputArgumentOffsets: [String: [String: Int]] = [
        "FusedBatchNorm": ["y": 0, "batch_mean": 1, "batch_variance": 2, "reserve_space_1": 3, "reserve_space_2": 4],
        "FusedBatchNormV2": ["y": 0, "batch_mean": 1, "batch_variance": 2, "reserve_space_1": 3, "reserve_space_2": 4],
        "FusedBatchNormV3": [
            "y": 0, "batch_mean": 1, "batch_variance": 2, "reserve_space_1": 3, "reserve_space_2": 4,
            "reserve_space_3": 5,
        ],
    ]

    private func evaluate(_ node: Tensorflow_NodeDef, in scope: Scope) throws(InferenceError) -> [Ref] {
        if let done = scope.evaluated[node.name] { return done }
        let outputs = try lower(node, in: scope)
        scope.evaluated[node.name] = outputs
        return outputs
    }

    private func dataInputs(_ node: Tensorflow_NodeDef) -> [String] {
        node.input.filter { !$0.hasPrefix("^") }
    }

    private func value(
        _ tensorName: String,
        in scope: Scope,
        for node: Tensorflow_NodeDef
    ) throws(InferenceError) -> Int {
        switch try resolve(tensorName, in: scope) {
        case .value(let value): return value
        case .variable(let name):
            throw InferenceError(
                .invalidModel,
                "\(node.op) (\(scope.location(node))) takes variable '\(name)' where a tensor is expected"
            )
        }
    }

    // MARK: - Lowering ops

    private func lower(_ node: Tensorflow_NodeDef, in scope: Scope) throws(InferenceError) -> [Ref] {
        let inputs = dataInputs(node)
        func operands(_ count: Int) throws(InferenceError) -> [Int?] {
            guard inputs.count >= count else {
                throw InferenceError(
                    .invalidModel,
                    "\(node.op) (\(scope.location(node))) has \(inputs.count) inputs, expected \(count)"
                )
            }
            var values: [Int?] = []
            for name in inputs.prefix(count) { values.append(try value(name, in: scope, for: node)) }
            return values
        }
        func emit(_ op: Operator, _ operands: [Int?], outputs: Int = 1) -> [Ref] {
            let values = (0..<outputs).map { graph.addValue(named: node.name + ($0 == 0 ? "" : ":\($0)")) }
            graph.nodes.append(.init(name: node.name, op: op, inputs: operands, outputs: values))
            return values.map { .value($0) }
        }
        func unsupported(_ detail: String = "") -> InferenceError {
            InferenceError(
                .unsupportedOperator,
                "unsupported TensorFlow op '\(node.op)'\(detail) (\(scope.location(node)))"
            )
        }
        func attribute(_ name: String) -> Tensorflow_AttrValue? { node.attr[name] }
        func integers(_ name: String) -> [Int] { (attribute(name)?.list.i ?? []).map(Int.init) }
        func string(_ name: String, default fallback: String) -> String {
            attribute(name).map { String(decoding: $0.s, as: UTF8.self) } ?? fallback
        }
        func requireFloat() throws(InferenceError) {
            if let type = attribute("T")?.type, type != .dtFloat { throw unsupported(" on \(type) tensors") }
        }
        func requireNHWC() throws(InferenceError) {
            let format = string("data_format", default: "NHWC")
            guard format == "NHWC" else { throw unsupported(" with data_format \(format)") }
        }
        func padding() throws(InferenceError) -> Operator.Padding {
            switch string("padding", default: "VALID") {
            case "SAME": return .sameUpper
            case "VALID": return .valid
            case "EXPLICIT":
                let pairs = integers("explicit_paddings")
                guard pairs.count == 8 else { throw unsupported(" with explicit paddings \(pairs)") }
                return .explicit([pairs[2], pairs[4], pairs[3], pairs[5]])
            case let other: throw unsupported(" with padding \(other)")
            }
        }
        func spatial(_ name: String, default fallback: [Int]) throws(InferenceError) -> [Int] {
            let values = integers(name)
            if values.isEmpty { return fallback }
            guard values.count == 4, values[0] == 1, values[3] == 1 else {
                throw unsupported(" with \(name) \(values)")
            }
            return [values[1], values[2]]
        }

        switch node.op {
        case "Placeholder":
            guard scope.function == nil, let value = placeholders[node.name] else {
                throw InferenceError(.invalidModel, "placeholder '\(node.name)' is not an input of the signature")
            }
            return [.value(value)]
        case "Const":
            guard let proto = attribute("value")?.tensor else {
                throw InferenceError(.invalidModel, "Const \(scope.location(node)) has no value")
            }
            do {
                return [.value(graph.addConstant(try TensorDecoding.tensor(proto), named: node.name))]
            } catch {
                throw InferenceError(error.kind, "\(scope.location(node)): \(error.message)")
            }
        case "VarHandleOp":
            guard scope.function == nil else { throw unsupported(" inside a function") }
            return [.variable(node.name)]
        case "ReadVariableOp":
            guard let input = inputs.first, case .variable(let name) = try resolve(input, in: scope) else {
                throw InferenceError(.invalidModel, "ReadVariableOp (\(scope.location(node))) does not read a variable")
            }
            return [.value(try variable(name))]
        case "Identity", "StopGradient", "Snapshot", "PreventGradient":
            guard let input = inputs.first else {
                throw InferenceError(.invalidModel, "\(node.op) (\(scope.location(node))) has no input")
            }
            let ref = try resolve(input, in: scope)
            guard case .value(let source) = ref else { return [ref] }
            return emit(.identity, [source])
        case "IdentityN":
            var refs: [Ref] = []
            for input in inputs { refs.append(try resolve(input, in: scope)) }
            return refs
        case "NoOp":
            return []
        case "StatefulPartitionedCall", "PartitionedCall":
            return try call(node, inputs: inputs, in: scope)

        case "AddV2", "Add":
            try requireFloat()
            return emit(.binary(.add), try operands(2))
        case "Sub":
            try requireFloat()
            return emit(.binary(.sub), try operands(2))
        case "Mul":
            try requireFloat()
            return emit(.binary(.mul), try operands(2))
        case "RealDiv", "Div":
            try requireFloat()
            return emit(.binary(.div), try operands(2))
        case "BiasAdd":
            try requireFloat()
            try requireNHWC()
            // NHWC: the bias runs along the last axis, which is exactly broadcasting.
            return emit(.binary(.add), try operands(2))
        case "Sigmoid":
            try requireFloat()
            return emit(.unary(.sigmoid), try operands(1))
        case "Relu":
            try requireFloat()
            return emit(.unary(.relu), try operands(1))
        case "Tanh":
            try requireFloat()
            return emit(.unary(.tanh), try operands(1))
        case "Relu6":
            try requireFloat()
            let low = graph.addConstant(Tensor(scalar: 0), named: node.name + "/min")
            let high = graph.addConstant(Tensor(scalar: 6), named: node.name + "/max")
            return emit(.clip, try operands(1) + [low, high])
        case "MatMul":
            try requireFloat()
            let transposeA = attribute("transpose_a")?.b ?? false
            let transposeB = attribute("transpose_b")?.b ?? false
            return emit(.matMul(transposeA: transposeA, transposeB: transposeB), try operands(2))
        case "Softmax":
            try requireFloat()
            return emit(.softmax(axis: -1), try operands(1))
        case "Conv2D", "DepthwiseConv2dNative":
            try requireFloat()
            try requireNHWC()
            let conv = Operator.Convolution(
                layout: .nhwc,
                filterLayout: node.op == "Conv2D" ? .hwio : .hwim,
                strides: try spatial("strides", default: [1, 1]),
                dilations: try spatial("dilations", default: [1, 1]),
                padding: try padding(),
                group: 1
            )
            return emit(.convolution(conv), try operands(2))
        case "FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3":
            try requireFloat()
            try requireNHWC()
            guard !(attribute("is_training")?.b ?? true) else { throw unsupported(" in training mode") }
            let epsilon = attribute("epsilon")?.f ?? 1e-4
            let y = emit(.batchNormalization(epsilon: epsilon, layout: .nhwc), try operands(5))
            return y  // The batch statistics outputs exist only in training mode.
        case "MaxPool", "AvgPool":
            try requireFloat()
            try requireNHWC()
            let window = Operator.Window(
                kernel: try spatial("ksize", default: [1, 1]),
                strides: try spatial("strides", default: [1, 1]),
                dilations: [1, 1],
                padding: try padding()
            )
            // TensorFlow's average excludes padded cells.
            let pool = Operator.Pool(
                kind: node.op == "MaxPool" ? .max : .average,
                layout: .nhwc,
                window: window,
                countIncludePad: false
            )
            return emit(.pool(pool), try operands(1))
        case "Mean":
            try requireFloat()
            // An empty axis list reduces nothing in TensorFlow.
            return emit(
                .reduceMean(axes: nil, keepDims: attribute("keep_dims")?.b ?? false, noopWithEmptyAxes: true),
                try operands(2)
            )
        case "Pad", "PadV2":
            try requireFloat()
            return emit(.pad(mode: .constant, format: .pairs), try operands(node.op == "Pad" ? 2 : 3))
        case "Reshape":
            return emit(.reshape(zeroCopiesDimension: false), try operands(2))
        case "Squeeze":
            let axes = integers("squeeze_dims")
            return emit(.squeeze(axes: axes.isEmpty ? nil : axes), try operands(1))
        case "ExpandDims":
            return emit(.unsqueeze(axes: nil), try operands(2))
        case "Transpose":
            return emit(.transpose(perm: nil), try operands(2))
        case "ConcatV2":
            guard inputs.count >= 2 else {
                throw InferenceError(.invalidModel, "ConcatV2 (\(scope.location(node))) needs an axis")
            }
            return emit(.concat(axis: nil), try operands(inputs.count))
        default:
            throw unsupported()
        }
    }

    /// Inlines a function call: binds the body's arguments to the call's inputs and resolves its return values.
    private func call(_ node: Tensorflow_NodeDef, inputs: [String], in scope: Scope) throws(InferenceError) -> [Ref] {
        let name = node.attr["f"]?.func.name ?? ""
        guard let function = functions[name] else {
            throw InferenceError(.invalidModel, "\(node.op) (\(scope.location(node))) calls unknown function '\(name)'")
        }
        guard function.signature.inputArg.count == inputs.count else {
            throw InferenceError(
                .invalidModel,
                "call of '\(name)' (\(scope.location(node))) passes \(inputs.count) arguments for \(function.signature.inputArg.count)"
            )
        }
        depth += 1
        defer { depth -= 1 }
        guard depth < 64 else {
            throw InferenceError(.invalidModel, "function calls nest deeper than 64 (\(scope.location(node)))")
        }
        var arguments: [String: Ref] = [:]
        for (argument, input) in zip(function.signature.inputArg, inputs) {
            arguments[argument.name] = try resolve(input, in: scope)
        }
        let body = Scope(nodes: function.nodeDef, arguments: arguments, function: name)
        var outputs: [Ref] = []
        for argument in function.signature.outputArg {
            guard let returned = function.ret[argument.name] else {
                throw InferenceError(.invalidModel, "function '\(name)' does not return '\(argument.name)'")
            }
            outputs.append(try resolve(returned, in: body))
        }
        return outputs
    }

    // MARK: - Variables

    /// A variable's value as a constant of the graph, read from the bundle once per signature.
    private func variable(_ handle: String) throws(InferenceError) -> Int {
        if let value = variableValues[handle] { return value }
        guard let bundle else {
            throw InferenceError(
                .invalidModel,
                "variable '\(handle)' is read, but the model has no variables/ directory"
            )
        }
        guard let key = checkpointKeys[handle] else {
            throw InferenceError(.invalidModel, "variable '\(handle)' is not restored by the model's restore function")
        }
        let value = graph.addConstant(try bundle.tensor(named: key), named: handle)
        variableValues[handle] = value
        return value
    }

    /// Maps each VarHandleOp to its checkpoint key through the restore function that `saver_def` names:
    /// RestoreV2's `tensor_names[k]` flows (through Identity nodes) into an AssignVariableOp whose resource argument is
    /// bound, at the call site, to the VarHandleOp.
    private func variableCheckpointKeys() -> [String: String] {
        let restoreName = Self.nodeName(of: metaGraph.saverDef.restoreOpName)
        guard let call = metaGraph.graphDef.node.first(where: { $0.name == restoreName }),
            let function = functions[call.attr["f"]?.func.name ?? ""]
        else { return [:] }
        let callInputs = dataInputs(call).map(Self.nodeName(of:))
        var argumentHandles: [String: String] = [:]
        for (argument, input) in zip(function.signature.inputArg, callInputs) { argumentHandles[argument.name] = input }
        let nodes = Dictionary(function.nodeDef.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })

        func tensorNames(of restore: Tensorflow_NodeDef) -> [String] {
            let inputs = dataInputs(restore)
            guard inputs.count > 1, let constant = nodes[Self.nodeName(of: inputs[1])], constant.op == "Const" else {
                return []
            }
            return (constant.attr["value"]?.tensor.stringVal ?? []).map { String(decoding: $0, as: UTF8.self) }
        }
        /// Follows Identity nodes back to `RestoreV2:tensors:k`.
        func checkpointKey(of tensorName: String) -> String? {
            var name = tensorName
            for _ in 0..<16 {
                let parts = name.split(separator: ":").map(String.init)
                guard let node = nodes[parts[0]] else { return nil }
                switch node.op {
                case "Identity":
                    guard let input = dataInputs(node).first else { return nil }
                    name = input
                case "RestoreV2":
                    guard let index = parts.last.flatMap({ Int($0) }) else { return nil }
                    let names = tensorNames(of: node)
                    return index < names.count ? names[index] : nil
                default:
                    return nil
                }
            }
            return nil
        }

        var keys: [String: String] = [:]
        for node in function.nodeDef where node.op == "AssignVariableOp" {
            let inputs = dataInputs(node)
            guard inputs.count == 2, let handle = argumentHandles[inputs[0]], let key = checkpointKey(of: inputs[1])
            else { continue }
            keys[handle] = key
        }
        return keys
    }
}
