import SwiftProtobuf

/// Reads an ONNX model (ModelProto) into the IR: initializers become constants, graph inputs that are not
/// initializers become the `serving_default` signature's inputs. Opset 13 and later is the target; older opsets
/// load where an op's semantics at that opset are the ones Moss implements, and fail naming the op otherwise.
enum ONNXLoader {
    static let minimumOpset = 1

    /// The first opset at which each op has the semantics implemented here (older versions had legacy broadcasting,
    /// `consumed_inputs`, a 2-D Softmax, …).
    static let firstOpsetImplemented: [String: Int] = [
        "Add": 7, "Sub": 7, "Mul": 7, "Div": 7, "Gemm": 7, "BatchNormalization": 7, "MaxPool": 8, "AveragePool": 7,
        "Relu": 6, "Sigmoid": 6, "Tanh": 6, "Clip": 6, "Reshape": 5, "Concat": 4, "Pad": 2, "Softmax": 13,
    ]

    static func load(file path: String) throws(InferenceError) -> [String: ModelSignature] {
        let model: Onnx_ModelProto
        do {
            model = try Onnx_ModelProto(serializedBytes: try TensorBundle.read(path))
        } catch let error as InferenceError {
            throw error
        } catch {
            throw InferenceError(.invalidModel, "\(path): not an ONNX model (\(error))")
        }
        do {
            let signature = try lower(model, name: InferenceModel.defaultSignatureName)
            return [signature.name: signature]
        } catch {
            throw InferenceError(error.kind, "\(path): \(error.message)")
        }
    }

    static func lower(_ model: Onnx_ModelProto, name: String) throws(InferenceError) -> ModelSignature {
        guard let opset = model.opsetImport.first(where: { $0.domain.isEmpty || $0.domain == "ai.onnx" })?.version
        else {
            throw InferenceError(.invalidModel, "the model imports no ai.onnx opset")
        }
        guard opset >= minimumOpset else {
            throw InferenceError(.unsupportedOperator, "opset \(opset) is not supported")
        }
        var importer = ONNXImporter(opset: Int(opset))
        return try importer.lower(model.graph, signatureName: name)
    }
}

/// The per-model state of lowering an ONNX graph.
struct ONNXImporter {
    let opset: Int
    private var graph = Graph()
    private var values: [String: Int] = [:]
    /// Element types known at load time (inputs, initializers, constants); computed values are float32.
    private var types: [Int: ElementType] = [:]

    init(opset: Int) { self.opset = opset }

    mutating func lower(_ onnx: Onnx_GraphProto, signatureName: String) throws(InferenceError) -> ModelSignature {
        guard onnx.sparseInitializer.isEmpty else {
            throw InferenceError(.unsupportedOperator, "sparse initializers are not supported")
        }
        for initializer in onnx.initializer {
            let tensor: Tensor
            do {
                tensor = try ONNXTensor.tensor(initializer)
            } catch {
                throw InferenceError(error.kind, "initializer '\(initializer.name)': \(error.message)")
            }
            let value = graph.addConstant(tensor, named: initializer.name)
            values[initializer.name] = value
            types[value] = tensor.elementType
        }
        var specs: [TensorSpec] = []
        for input in onnx.input where values[input.name] == nil {
            let tensorType = input.type.tensorType
            guard let type = ONNXTensor.elementType(tensorType.elemType) else {
                throw InferenceError(
                    .unsupportedOperator,
                    "input '\(input.name)' has element type \(tensorType.elemType), which is not supported"
                )
            }
            let shape: [Int?]? =
                tensorType.hasShape
                ? tensorType.shape.dim.map { dim in if case .dimValue(let size) = dim.value { Int(size) } else { nil } }
                : nil
            let value = graph.addValue(named: input.name)
            values[input.name] = value
            types[value] = type
            graph.inputs.append(.init(name: input.name, value: value, elementType: type, shape: shape))
            specs.append(TensorSpec(name: input.name, elementType: type, shape: shape))
        }
        for node in onnx.node { try lower(node) }
        for output in onnx.output {
            guard let value = values[output.name] else {
                throw InferenceError(.invalidModel, "output '\(output.name)' is produced by no node")
            }
            if let type = types[value], type != .float32 {
                throw InferenceError(
                    .unsupportedOperator,
                    "output '\(output.name)' is \(type); only float32 outputs are supported"
                )
            }
            graph.outputs.append(.init(name: output.name, value: value))
        }
        graph.foldConstants()
        graph.fuseConvolutions()
        graph.removeDeadNodes()
        return ModelSignature(name: signatureName, inputs: specs, outputNames: graph.outputs.map(\.name), graph: graph)
    }

    private mutating func lower(_ node: Onnx_NodeProto) throws(InferenceError) {
        let label = "'\(node.opType)' (node '\(node.name.isEmpty ? node.output.first ?? "" : node.name)')"
        func unsupported(_ detail: String = "") -> InferenceError {
            InferenceError(.unsupportedOperator, "unsupported ONNX op \(label)\(detail)")
        }
        guard node.domain.isEmpty || node.domain == "ai.onnx" else { throw unsupported(" in domain '\(node.domain)'") }
        if let first = ONNXLoader.firstOpsetImplemented[node.opType], opset < first {
            throw unsupported(" before opset \(first)")
        }
        let attributes = Dictionary(node.attribute.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        func int(_ name: String, _ fallback: Int) -> Int { attributes[name].map { Int($0.i) } ?? fallback }
        func float(_ name: String, _ fallback: Float) -> Float { attributes[name]?.f ?? fallback }
        func ints(_ name: String) -> [Int]? { attributes[name].map { $0.ints.map(Int.init) } }
        func string(_ name: String, _ fallback: String) -> String {
            attributes[name].map { String(decoding: $0.s, as: UTF8.self) } ?? fallback
        }
        var operands: [Int?] = []
        for name in node.input {
            if name.isEmpty {
                operands.append(nil)
            } else {
                guard let value = values[name] else {
                    throw InferenceError(.invalidModel, "\(label) reads '\(name)', which nothing produces")
                }
                operands.append(value)
            }
        }
        func emit(_ op: Operator, outputs: Int = 1) throws(InferenceError) {
            guard node.output.count <= outputs else { throw unsupported(" with \(node.output.count) outputs") }
            // Static operands may be integers; every other operand is arithmetic on float32.
            let statics = Set(op.staticOperands.map { $0 < 0 ? operands.count + $0 : $0 })
            for (index, operand) in operands.enumerated() where !statics.contains(index) {
                if let operand, let type = types[operand], type != .float32 { throw unsupported(" on \(type) tensors") }
            }
            let outputValues = node.output.map { graph.addValue(named: $0) }
            for (name, value) in zip(node.output, outputValues) { values[name] = value }
            graph.nodes.append(
                .init(
                    name: node.name.isEmpty ? node.output.first ?? node.opType : node.name,
                    op: op,
                    inputs: operands,
                    outputs: outputValues
                )
            )
        }
        func window(spatialFrom kernel: [Int]) throws(InferenceError) -> Operator.Window {
            let n = kernel.count
            let padding: Operator.Padding
            switch string("auto_pad", "NOTSET") {
            case "NOTSET": padding = .explicit(ints("pads") ?? Array(repeating: 0, count: 2 * n))
            case "SAME_UPPER": padding = .sameUpper
            case "SAME_LOWER": padding = .sameLower
            case "VALID": padding = .valid
            case let other: throw unsupported(" with auto_pad \(other)")
            }
            return Operator.Window(
                kernel: kernel,
                strides: ints("strides") ?? Array(repeating: 1, count: n),
                dilations: ints("dilations") ?? Array(repeating: 1, count: n),
                padding: padding,
                ceilMode: int("ceil_mode", 0) != 0
            )
        }

        switch node.opType {
        case "Identity": try emit(.identity)
        case "Add": try emit(.binary(.add))
        case "Sub": try emit(.binary(.sub))
        case "Mul": try emit(.binary(.mul))
        case "Div": try emit(.binary(.div))
        case "Sigmoid": try emit(.unary(.sigmoid))
        case "Relu": try emit(.unary(.relu))
        case "Tanh": try emit(.unary(.tanh))
        case "Clip":
            if opset < 11 {
                // Before opset 11 the bounds are attributes.
                let low = graph.addConstant(
                    Tensor(scalar: float("min", -.greatestFiniteMagnitude)),
                    named: node.name + "/min"
                )
                let high = graph.addConstant(
                    Tensor(scalar: float("max", .greatestFiniteMagnitude)),
                    named: node.name + "/max"
                )
                operands = [operands.first ?? nil, low, high]
            }
            try emit(.clip)
        case "MatMul": try emit(.matMul(transposeA: false, transposeB: false))
        case "Gemm":
            try emit(
                .gemm(
                    alpha: float("alpha", 1),
                    beta: float("beta", 1),
                    transposeA: int("transA", 0) != 0,
                    transposeB: int("transB", 0) != 0
                )
            )
        case "Softmax":
            // Before opset 13 Softmax flattened the input to 2-D around `axis` (rejected above).
            try emit(.softmax(axis: int("axis", -1)))
        case "Conv":
            guard let kernel = ints("kernel_shape") ?? nil, kernel.count == 2 || attributes["kernel_shape"] == nil
            else {
                throw unsupported(" with \(ints("kernel_shape")?.count ?? 0) spatial axes (2 are supported)")
            }
            let w = try window(spatialFrom: kernel.isEmpty ? [1, 1] : kernel)
            guard w.strides.count == 2, w.dilations.count == 2 else {
                throw unsupported(" with \(w.strides.count) spatial axes (2 are supported)")
            }
            try emit(
                .convolution(
                    .init(
                        layout: .nchw,
                        filterLayout: .oihw,
                        strides: w.strides,
                        dilations: w.dilations,
                        padding: w.padding,
                        group: int("group", 1)
                    )
                )
            )
        case "BatchNormalization":
            guard int("training_mode", 0) == 0 else { throw unsupported(" in training mode") }
            guard int("spatial", 1) == 1 else { throw unsupported(" with spatial = 0") }
            try emit(.batchNormalization(epsilon: float("epsilon", 1e-5), layout: .nchw))
        case "MaxPool", "AveragePool":
            guard let kernel = ints("kernel_shape") else {
                throw InferenceError(.invalidModel, "\(label) has no kernel_shape")
            }
            guard kernel.count == 1 || kernel.count == 2 else {
                throw unsupported(" with \(kernel.count) spatial axes (1 or 2 are supported)")
            }
            if node.opType == "MaxPool", int("storage_order", 0) != 0 { throw unsupported(" with storage_order 1") }
            let pool = Operator.Pool(
                kind: node.opType == "MaxPool" ? .max : .average,
                layout: .nchw,
                window: try window(spatialFrom: kernel),
                countIncludePad: int("count_include_pad", 0) != 0
            )
            try emit(.pool(pool))
        case "GlobalAveragePool": try emit(.globalAveragePool)
        case "ReduceMean":
            let keepDims = int("keepdims", 1) != 0
            if opset >= 18 {
                try emit(
                    .reduceMean(axes: nil, keepDims: keepDims, noopWithEmptyAxes: int("noop_with_empty_axes", 0) != 0)
                )
            } else {
                try emit(.reduceMean(axes: ints("axes") ?? [], keepDims: keepDims, noopWithEmptyAxes: false))
            }
        case "Pad":
            if opset < 11 {
                guard let pads = ints("pads") else { throw InferenceError(.invalidModel, "\(label) has no pads") }
                let padsValue = graph.addConstant(
                    Tensor(shape: [pads.count], int64s: pads.map(Int64.init)),
                    named: node.name + "/pads"
                )
                let constant = graph.addConstant(Tensor(scalar: float("value", 0)), named: node.name + "/value")
                types[padsValue] = .int64
                operands = [operands.first ?? nil, padsValue, constant]
            }
            let mode: Operator.PadMode
            switch string("mode", "constant") {
            case "constant": mode = .constant
            case "reflect": mode = .reflect
            case "edge": mode = .edge
            case let other: throw unsupported(" with mode '\(other)'")
            }
            try emit(.pad(mode: mode, format: .beginsThenEnds))
        case "Reshape":
            try emit(.reshape(zeroCopiesDimension: int("allowzero", 0) == 0))
        case "Squeeze":
            // Before opset 13 the axes are an attribute.
            try emit(.squeeze(axes: opset < 13 ? ints("axes") : nil))
        case "Unsqueeze":
            if opset < 13 {
                guard let axes = ints("axes") else { throw InferenceError(.invalidModel, "\(label) has no axes") }
                try emit(.unsqueeze(axes: axes))
            } else {
                try emit(.unsqueeze(axes: nil))
            }
        case "Flatten": try emit(.flatten(axis: int("axis", 1)))
        case "Transpose": try emit(.transpose(perm: ints("perm")))
        case "Concat":
            guard let axis = attributes["axis"] else { throw InferenceError(.invalidModel, "\(label) has no axis") }
            try emit(.concat(axis: Int(axis.i)))
        case "Constant":
            let tensor: Tensor
            do throws(InferenceError) {
                if let proto = attributes["value"] {
                    tensor = try ONNXTensor.tensor(proto.t)
                } else if let value = attributes["value_float"] {
                    tensor = Tensor(scalar: value.f)
                } else if let value = attributes["value_floats"] {
                    tensor = Tensor(shape: [value.floats.count], floats: value.floats)
                } else if let value = attributes["value_int"] {
                    tensor = Tensor(shape: [], int64s: [value.i])
                } else if let value = attributes["value_ints"] {
                    tensor = Tensor(shape: [value.ints.count], int64s: value.ints)
                } else {
                    throw unsupported(" without a numeric value")
                }
            } catch {
                throw InferenceError(error.kind, "\(label): \(error.message)")
            }
            guard let output = node.output.first else { return }
            let value = graph.addConstant(tensor, named: output)
            values[output] = value
            types[value] = tensor.elementType
        default:
            throw unsupported()
        }
    }
}
