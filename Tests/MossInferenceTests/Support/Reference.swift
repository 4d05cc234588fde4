@testable import MossInference

/// Deterministic pseudo-random data for kernel tests.
struct SeededGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }

    mutating func next() -> Float {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Float(Int64(state >> 40) - (1 << 23)) / Float(1 << 23)
    }

    mutating func tensor(_ shape: [Int]) -> Tensor {
        Tensor(shape: shape, floats: (0..<shape.reduce(1, *)).map { _ in next() })
    }
}

/// Runs one operator through the planner and kernels: graph inputs for `inputs`, constants for `constants`.
func run(_ op: Operator, inputs: [Tensor], constants: [Int: Tensor] = [:], outputs: Int = 1) throws -> [Tensor] {
    var graph = Graph()
    var operands: [Int?] = []
    var feeds: [String: Tensor] = [:]
    var inputIndex = 0
    for index in 0..<(inputs.count + constants.count) {
        if let constant = constants[index] {
            operands.append(graph.addConstant(constant, named: "c\(index)"))
        } else {
            let value = graph.addValue(named: "x\(index)")
            let tensor = inputs[inputIndex]
            inputIndex += 1
            graph.inputs.append(.init(name: "x\(index)", value: value, elementType: tensor.elementType, shape: nil))
            feeds["x\(index)"] = tensor
            operands.append(value)
        }
    }
    let results = (0..<outputs).map { graph.addValue(named: "y\($0)") }
    graph.nodes.append(.init(name: "node", op: op, inputs: operands, outputs: results))
    graph.outputs = results.enumerated().map { .init(name: "y\($0.offset)", value: $0.element) }
    let signature = ModelSignature(name: "test", inputs: [], outputNames: graph.outputs.map(\.name), graph: graph)
    let outputs = try signature.run(feeds)
    return graph.outputs.map { outputs[$0.name]! }
}

/// Element access by multi-index on a row-major tensor.
extension Tensor {
    subscript(_ index: [Int]) -> Float {
        var offset = 0
        for (axis, i) in index.enumerated() { offset = offset * shape[axis] + i }
        return floats![offset]
    }
}

func maxDifference(_ a: Tensor, _ b: Tensor) -> Float {
    precondition(a.shape == b.shape, "shapes \(a.shape) and \(b.shape) differ")
    return zip(a.floats!, b.floats!).map { abs($0 - $1) }.max() ?? 0
}

/// A direct NCHW convolution with OIHW filters, groups, strides, dilations and explicit pads: the reference.
func referenceConvolution(
    x: Tensor,
    w: Tensor,
    bias: Tensor?,
    strides: [Int],
    dilations: [Int],
    pads: [Int],
    group: Int
) -> Tensor {
    let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (m, cg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
    let oh = (h + pads[0] + pads[2] - ((kh - 1) * dilations[0] + 1)) / strides[0] + 1
    let ow = (wd + pads[1] + pads[3] - ((kw - 1) * dilations[1] + 1)) / strides[1] + 1
    let mg = m / group
    var out: [Float] = []
    for b in 0..<n {
        for o in 0..<m {
            let g = o / mg
            for y in 0..<oh {
                for xx in 0..<ow {
                    var sum: Float = bias?.floats![o] ?? 0
                    for ci in 0..<cg {
                        for i in 0..<kh {
                            for j in 0..<kw {
                                let iy = y * strides[0] - pads[0] + i * dilations[0]
                                let ix = xx * strides[1] - pads[1] + j * dilations[1]
                                guard iy >= 0, iy < h, ix >= 0, ix < wd else { continue }
                                sum += x[[b, g * cg + ci, iy, ix]] * w[[o, ci, i, j]]
                            }
                        }
                    }
                    out.append(sum)
                }
            }
        }
    }
    _ = c
    return Tensor(shape: [n, m, oh, ow], floats: out)
}

/// Permutes a tensor's axes (test-side reference, independent of the Transpose kernel).
func permuted(_ t: Tensor, _ perm: [Int]) -> Tensor {
    let shape = perm.map { t.shape[$0] }
    var values: [Float] = []
    values.reserveCapacity(t.elementCount)
    var index = [Int](repeating: 0, count: shape.count)
    for _ in 0..<t.elementCount {
        var source = [Int](repeating: 0, count: shape.count)
        for (axis, p) in perm.enumerated() { source[p] = index[axis] }
        values.append(t[source])
        var axis = shape.count - 1
        while axis >= 0 {
            index[axis] += 1
            if index[axis] < shape[axis] { break }
            index[axis] = 0
            axis -= 1
        }
    }
    return Tensor(shape: shape, floats: values)
}
