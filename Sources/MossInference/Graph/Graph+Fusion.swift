extension Graph {
    /// Folds inference-mode BatchNormalization into the convolution before it (new filter and bias constants), and
    /// fuses a following Relu, Relu6 or constant Clip into the convolution, when the convolution's output has no
    /// other use. Saves a full pass over each activation; the arithmetic is the same up to rounding.
    mutating func fuseConvolutions() {
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
