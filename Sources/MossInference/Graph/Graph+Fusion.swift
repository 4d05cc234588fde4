extension Graph {
    /// Folds inference-mode BatchNormalization into the convolution before it (new filter and bias constants), and
    /// fuses a following Relu, Relu6 or constant Clip into the convolution, when the convolution's output has no
    /// other use. Saves a full pass over each activation; the arithmetic is the same up to rounding.
    mutating func fuseConvolutions() {
        fusePadsIntoConvolutions()
        var uses: [Int: Int] = [:]
        for node in nodes { for case let value? in node.inputs { uses[value, default: 0] += 1 } }
        for output in outputs { uses[output.value, default: 0] += 1 }
        var producer: [Int: Int] = [:]
        for (index, node) in nodes.enumerated() { for output in node.outputs { producer[output] = index } }
        var removed = Set<Int>()
        for index in nodes.indices {
            let node = nodes[index]
            guard let source = node.inputs.first ?? nil, uses[source] == 1, let convolutionIndex = producer[source],
                case .convolution(var conv) = nodes[convolutionIndex].op, nodes[convolutionIndex].outputs == [source]
            else { continue }
            switch node.op {
            case .batchNormalization(let epsilon, _):
                guard conv.clamp == nil,
                    let folded = foldBatchNorm(conv, convolution: nodes[convolutionIndex], norm: node, epsilon: epsilon)
                else { continue }
                nodes[convolutionIndex].inputs = [nodes[convolutionIndex].inputs[0], folded.filter, folded.bias]
            case .unary(.relu):
                conv.clamp = clamp(conv.clamp, 0...Float.infinity)
            case .clip:
                guard let low = scalar(node.inputs.count > 1 ? node.inputs[1] : nil, default: -.infinity),
                    let high = scalar(node.inputs.count > 2 ? node.inputs[2] : nil, default: .infinity), low <= high
                else { continue }
                conv.clamp = clamp(conv.clamp, low...high)
            default:
                continue
            }
            nodes[convolutionIndex].op = .convolution(conv)
            nodes[convolutionIndex].outputs = node.outputs
            for output in node.outputs { producer[output] = convolutionIndex }
            removed.insert(index)
        }
        nodes = nodes.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
    }

    /// Folds a zero Pad of the spatial axes into the explicit padding of the convolution that is its only use
    /// (Keras pads before its stride-2 depthwise layers): saves a copy of the activation.
    private mutating func fusePadsIntoConvolutions() {
        var uses: [Int: Int] = [:]
        for node in nodes { for case let value? in node.inputs { uses[value, default: 0] += 1 } }
        for output in outputs { uses[output.value, default: 0] += 1 }
        var consumer: [Int: Int] = [:]
        for (index, node) in nodes.enumerated() { if let first = node.inputs.first ?? nil { consumer[first] = index } }
        var removed = Set<Int>()
        for (index, node) in nodes.enumerated() {
            guard case .pad(.constant, let format) = node.op, node.outputs.count == 1, let padded = node.outputs.first,
                uses[padded] == 1, let convolutionIndex = consumer[padded],
                case .convolution(var conv) = nodes[convolutionIndex].op, nodes[convolutionIndex].inputs[0] == padded,
                node.inputs.count >= 2, let paddingsValue = node.inputs[1],
                let paddings = constants[paddingsValue]?.integers
            else { continue }
            if node.inputs.count > 2, let value = node.inputs[2] {
                guard let tensor = constants[value], tensor.elementCount == 1, tensor.doubles[0] == 0 else { continue }
            }
            if node.inputs.count > 3, node.inputs[3] != nil { continue }
            guard
                let (begins, ends) = try? ShapeInference.padAmounts(
                    format: format,
                    rank: 4,
                    paddings: paddings,
                    axes: nil
                )
            else { continue }
            let spatial = conv.layout == .nchw ? [2, 3] : [1, 2]
            let others = conv.layout == .nchw ? [0, 1] : [0, 3]
            guard (begins + ends).allSatisfy({ $0 >= 0 }), others.allSatisfy({ begins[$0] == 0 && ends[$0] == 0 })
            else { continue }
            let existing: [Int]
            switch conv.padding {
            case .valid: existing = [0, 0, 0, 0]
            case .explicit(let pads) where pads.count == 4: existing = pads
            default: continue
            }
            conv.padding = .explicit([
                existing[0] + begins[spatial[0]], existing[1] + begins[spatial[1]],
                existing[2] + ends[spatial[0]], existing[3] + ends[spatial[1]],
            ])
            nodes[convolutionIndex].op = .convolution(conv)
            nodes[convolutionIndex].inputs[0] = node.inputs[0]
            removed.insert(index)
        }
        nodes = nodes.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
    }

    private func clamp(_ existing: ClosedRange<Float>?, _ new: ClosedRange<Float>) -> ClosedRange<Float> {
        guard let existing else { return new }
        let low = Swift.min(Swift.max(existing.lowerBound, new.lowerBound), new.upperBound)
        let high = Swift.max(Swift.min(existing.upperBound, new.upperBound), low)
        return low...high
    }

    private func scalar(_ value: Int?, default fallback: Float) -> Float? {
        guard let value else { return fallback }
        guard let tensor = constants[value], tensor.elementCount == 1 else { return nil }
        return Float(tensor.doubles[0])
    }

    /// The filter and bias of conv(x) · a + (b − mean · a … ) with a = scale / √(variance + ε), as new constants.
    private mutating func foldBatchNorm(
        _ conv: Operator.Convolution,
        convolution: Node,
        norm: Node,
        epsilon: Float
    ) -> (filter: Int, bias: Int)? {
        guard norm.inputs.count == 5, let filterValue = convolution.inputs[1],
            let filter = constants[filterValue]?.floats
        else { return nil }
        var parameters: [[Float]] = []
        for operand in norm.inputs.dropFirst() {
            guard let operand, let values = constants[operand]?.floats else { return nil }
            parameters.append(values)
        }
        let filterShape = constants[filterValue]!.shape
        let outChannels: Int
        switch conv.filterLayout {
        case .oihw: outChannels = filterShape[0]
        case .hwio: outChannels = filterShape[3]
        case .hwim: outChannels = filterShape[2] * filterShape[3]
        }
        guard parameters.allSatisfy({ $0.count == outChannels }), outChannels > 0 else { return nil }
        var bias = [Float](repeating: 0, count: outChannels)
        if convolution.inputs.count > 2, let biasValue = convolution.inputs[2] {
            guard let values = constants[biasValue]?.floats, values.count == outChannels else { return nil }
            bias = values
        }
        let (scale, offset, mean, variance) = (parameters[0], parameters[1], parameters[2], parameters[3])
        let multiplier = (0..<outChannels).map { scale[$0] / (variance[$0] + epsilon).squareRoot() }
        let perChannel = filter.count / outChannels
        let newFilter = filter.indices.map { index in
            filter[index] * multiplier[conv.filterLayout == .oihw ? index / perChannel : index % outChannels]
        }
        let newBias = (0..<outChannels).map { (bias[$0] - mean[$0]) * multiplier[$0] + offset[$0] }
        return (
            addConstant(Tensor(shape: filterShape, floats: newFilter), named: norm.name + "/folded_filter"),
            addConstant(Tensor(shape: [outChannels], floats: newBias), named: norm.name + "/folded_bias")
        )
    }
}
