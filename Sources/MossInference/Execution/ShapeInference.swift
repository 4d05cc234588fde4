/// Output shapes of each operator for concrete input shapes and static operands.
/// Errors are plain messages; the planner adds the node's name.
enum ShapeInference {
    struct Failure: Error { let message: String }

    static func outputShapes(
        _ op: Operator,
        inputs: [[Int]?],
        statics: [Int: Tensor]
    ) throws(Failure) -> [[Int]] {
        func input(_ index: Int) throws(Failure) -> [Int] {
            guard index < inputs.count, let shape = inputs[index] else {
                throw Failure(message: "input \(index) is missing")
            }
            return shape
        }
        func staticIntegers(_ index: Int) -> [Int]? {
            let resolved = index < 0 ? inputs.count + index : index
            return statics[resolved]?.integers
        }
        func axis(_ axis: Int, rank: Int) throws(Failure) -> Int {
            guard let resolved = normalizedAxis(axis, rank: rank) else {
                throw Failure(message: "axis \(axis) is out of range for rank \(rank)")
            }
            return resolved
        }

        switch op {
        case .identity, .unary, .clip, .batchNormalization:
            return [try input(0)]

        case .binary:
            let a = try input(0)
            let b = try input(1)
            guard let shape = Broadcast.shape(a, b) else { throw Failure(message: "cannot broadcast \(a) with \(b)") }
            return [shape]

        case .matMul(let transposeA, let transposeB):
            var a = try input(0)
            var b = try input(1)
            guard !a.isEmpty, !b.isEmpty else { throw Failure(message: "matrix product of a scalar") }
            let vectorA = a.count == 1
            let vectorB = b.count == 1
            if vectorA { a = [1, a[0]] }
            if vectorB { b = [b[0], 1] }
            if transposeA { a.swapAt(a.count - 1, a.count - 2) }
            if transposeB { b.swapAt(b.count - 1, b.count - 2) }
            guard a[a.count - 1] == b[b.count - 2] else {
                throw Failure(message: "inner dimensions differ: \(try input(0)) × \(try input(1))")
            }
            guard let batch = Broadcast.shape(Array(a.dropLast(2)), Array(b.dropLast(2))) else {
                throw Failure(message: "cannot broadcast the batch dimensions of \(a) and \(b)")
            }
            var result = batch
            if !vectorA { result.append(a[a.count - 2]) }
            if !vectorB { result.append(b[b.count - 1]) }
            return [result]

        case .gemm(_, _, let transposeA, let transposeB):
            let a = try input(0)
            let b = try input(1)
            guard a.count == 2, b.count == 2 else { throw Failure(message: "Gemm needs matrices, got \(a) and \(b)") }
            let (m, ka) = transposeA ? (a[1], a[0]) : (a[0], a[1])
            let (kb, n) = transposeB ? (b[1], b[0]) : (b[0], b[1])
            guard ka == kb else { throw Failure(message: "inner dimensions differ: \(a) × \(b)") }
            if inputs.count > 2, let c = inputs[2], Broadcast.shape(c, [m, n]) != [m, n] {
                throw Failure(message: "C of shape \(c) does not broadcast to \([m, n])")
            }
            return [[m, n]]

        case .softmax(let softmaxAxis):
            let x = try input(0)
            _ = try axis(softmaxAxis, rank: Swift.max(x.count, 1))
            return [x]

        case .convolution(let conv):
            return [
                try convolutionShape(
                    conv,
                    x: try input(0),
                    filter: try input(1),
                    bias: inputs.count > 2 ? inputs[2] : nil
                )
            ]

        case .pool(let pool):
            let x = try input(0)
            guard x.count >= 3 else {
                throw Failure(message: "pooling needs a batch, channel and spatial axes, got \(x)")
            }
            let spatial = pool.layout == .nchw ? Array(x[2...]) : Array(x[1..<(x.count - 1)])
            let (out, _) = try windowOutput(spatial: spatial, window: pool.window)
            return [pool.layout == .nchw ? [x[0], x[1]] + out : [x[0]] + out + [x[x.count - 1]]]

        case .reduceMean(let fixedAxes, let keepDims, let noop):
            let x = try input(0)
            let requested = fixedAxes ?? staticIntegers(1) ?? []
            if requested.isEmpty && noop { return [x] }
            var reduced = Set<Int>()
            for a in (requested.isEmpty ? Array(x.indices) : requested) { reduced.insert(try axis(a, rank: x.count)) }
            var shape: [Int] = []
            for (index, dim) in x.enumerated() {
                if reduced.contains(index) {
                    if keepDims { shape.append(1) }
                } else {
                    shape.append(dim)
                }
            }
            return [shape]

        case .globalAveragePool:
            let x = try input(0)
            guard x.count >= 2 else {
                throw Failure(message: "GlobalAveragePool needs batch and channel axes, got \(x)")
            }
            return [Array(x.prefix(2)) + Array(repeating: 1, count: x.count - 2)]

        case .pad(_, let format):
            let x = try input(0)
            let (begins, ends) = try padAmounts(
                format: format,
                rank: x.count,
                paddings: staticIntegers(1),
                axes: staticIntegers(3)
            )
            var shape = x
            for index in x.indices {
                shape[index] += begins[index] + ends[index]
                guard shape[index] >= 0 else { throw Failure(message: "padding makes axis \(index) negative") }
            }
            return [shape]

        case .reshape(let zeroCopies):
            let x = try input(0)
            guard var target = staticIntegers(1) else { throw Failure(message: "the target shape must be a constant") }
            var inferred: Int?
            for index in target.indices {
                if target[index] == 0 && zeroCopies {
                    guard index < x.count else {
                        throw Failure(message: "shape \(target) copies a missing axis \(index)")
                    }
                    target[index] = x[index]
                } else if target[index] == -1 {
                    guard inferred == nil else { throw Failure(message: "shape \(target) has more than one -1") }
                    inferred = index
                } else if target[index] < 0 {
                    throw Failure(message: "shape \(target) has a negative dimension")
                }
            }
            let known = target.enumerated().filter { $0.offset != inferred }.map(\.element).elementCount
            if let inferred {
                guard known > 0, x.elementCount % known == 0 else {
                    throw Failure(message: "cannot reshape \(x) to \(target)")
                }
                target[inferred] = x.elementCount / known
            }
            guard target.elementCount == x.elementCount else {
                throw Failure(message: "cannot reshape \(x) to \(target)")
            }
            return [target]

        case .squeeze(let fixedAxes):
            let x = try input(0)
            guard let requested = fixedAxes ?? staticIntegers(1) else { return [x.filter { $0 != 1 }] }
            var removed = Set<Int>()
            for a in requested {
                let resolved = try axis(a, rank: x.count)
                guard x[resolved] == 1 else {
                    throw Failure(message: "cannot squeeze axis \(a) of size \(x[resolved])")
                }
                removed.insert(resolved)
            }
            if requested.isEmpty { return [x.filter { $0 != 1 }] }
            return [x.enumerated().filter { !removed.contains($0.offset) }.map(\.element)]

        case .unsqueeze(let fixedAxes):
            let x = try input(0)
            guard let requested = fixedAxes ?? staticIntegers(1) else {
                throw Failure(message: "the axes must be a constant")
            }
            let rank = x.count + requested.count
            var inserted = Set<Int>()
            for a in requested { inserted.insert(try axis(a, rank: rank)) }
            guard inserted.count == requested.count else { throw Failure(message: "repeated axis in \(requested)") }
            var source = x.makeIterator()
            return [(0..<rank).map { inserted.contains($0) ? 1 : source.next()! }]

        case .flatten(let flattenAxis):
            let x = try input(0)
            let resolved = flattenAxis < 0 ? flattenAxis + x.count : flattenAxis
            guard (0...x.count).contains(resolved) else {
                throw Failure(message: "axis \(flattenAxis) is out of range")
            }
            return [[x.product(0..<resolved), x.product(resolved..<x.count)]]

        case .transpose(let fixedPerm):
            let x = try input(0)
            let perm = fixedPerm ?? staticIntegers(1) ?? Array(x.indices.reversed())
            guard perm.count == x.count, Set(perm) == Set(x.indices) else {
                throw Failure(message: "permutation \(perm) does not fit rank \(x.count)")
            }
            return [perm.map { x[$0] }]

        case .concat(let fixedAxis):
            let parts = try (0..<(fixedAxis == nil ? inputs.count - 1 : inputs.count)).map { (index) throws(Failure) in
                try input(index)
            }
            guard let first = parts.first else { throw Failure(message: "nothing to concatenate") }
            guard let rawAxis = fixedAxis ?? staticIntegers(-1)?.first else {
                throw Failure(message: "the axis must be a constant")
            }
            let resolved = try axis(rawAxis, rank: first.count)
            var shape = first
            shape[resolved] = 0
            for part in parts {
                guard part.count == first.count,
                    part.indices.allSatisfy({ $0 == resolved || part[$0] == first[$0] })
                else { throw Failure(message: "cannot concatenate \(first) and \(part) on axis \(rawAxis)") }
                shape[resolved] += part[resolved]
            }
            return [shape]
        }
    }

    /// Output spatial sizes and the (begin, end) padding of each spatial axis.
    static func windowOutput(
        spatial: [Int],
        window: Operator.Window
    ) throws(Failure) -> (sizes: [Int], pads: [(Int, Int)]) {
        let n = spatial.count
        guard window.kernel.count == n, window.strides.count == n, window.dilations.count == n else {
            throw Failure(message: "window \(window.kernel) does not fit \(n) spatial axes")
        }
        var sizes: [Int] = []
        var pads: [(Int, Int)] = []
        for axis in 0..<n {
            let input = spatial[axis]
            let stride = window.strides[axis]
            let extent = (window.kernel[axis] - 1) * window.dilations[axis] + 1
            guard stride > 0, window.kernel[axis] > 0, window.dilations[axis] > 0 else {
                throw Failure(message: "kernel, stride and dilation must be positive")
            }
            switch window.padding {
            case .explicit(let explicit):
                guard explicit.count == 2 * n else {
                    throw Failure(message: "padding \(explicit) does not fit \(n) spatial axes")
                }
                let begin = explicit[axis]
                let end = explicit[axis + n]
                let span = input + begin + end - extent
                guard span >= 0 else {
                    throw Failure(message: "window \(extent) is larger than the padded input \(input + begin + end)")
                }
                var size = (window.ceilMode ? (span + stride - 1) / stride : span / stride) + 1
                // As in ONNX and PyTorch: a window in ceil mode must start inside the input or the begin padding.
                if window.ceilMode && (size - 1) * stride >= input + begin { size -= 1 }
                sizes.append(size)
                pads.append((begin, end))
            case .sameUpper, .sameLower:
                let size = (input + stride - 1) / stride
                let total = Swift.max(0, (size - 1) * stride + extent - input)
                let small = total / 2
                sizes.append(size)
                pads.append(window.padding == .sameUpper ? (small, total - small) : (total - small, small))
            case .valid:
                guard input >= extent else {
                    throw Failure(message: "window \(extent) is larger than the input \(input)")
                }
                sizes.append((input - extent) / stride + 1)
                pads.append((0, 0))
            }
        }
        return (sizes, pads)
    }

    static func convolutionShape(
        _ conv: Operator.Convolution,
        x: [Int],
        filter: [Int],
        bias: [Int]?
    ) throws(Failure) -> [Int] {
        guard x.count == 4, filter.count == 4 else {
            throw Failure(message: "only 2-D convolutions are supported (input \(x), filter \(filter))")
        }
        let channels = conv.layout == .nchw ? x[1] : x[3]
        let spatial = conv.layout == .nchw ? [x[2], x[3]] : [x[1], x[2]]
        let kernel: [Int]
        let outChannels: Int
        switch conv.filterLayout {
        case .oihw:
            kernel = [filter[2], filter[3]]
            outChannels = filter[0]
            guard conv.group > 0, channels % conv.group == 0, outChannels % conv.group == 0,
                filter[1] * conv.group == channels
            else {
                throw Failure(
                    message: "filter \(filter) with group \(conv.group) does not fit \(channels) input channels"
                )
            }
        case .hwio:
            kernel = [filter[0], filter[1]]
            outChannels = filter[3]
            guard filter[2] == channels else {
                throw Failure(message: "filter \(filter) does not fit \(channels) input channels")
            }
        case .hwim:
            kernel = [filter[0], filter[1]]
            outChannels = filter[2] * filter[3]
            guard filter[2] == channels else {
                throw Failure(message: "filter \(filter) does not fit \(channels) input channels")
            }
        }
        if let bias, bias != [outChannels] {
            throw Failure(message: "bias \(bias) does not fit \(outChannels) output channels")
        }
        let window = Operator.Window(
            kernel: kernel,
            strides: conv.strides,
            dilations: conv.dilations,
            padding: conv.padding
        )
        let (out, _) = try windowOutput(spatial: spatial, window: window)
        return conv.layout == .nchw ? [x[0], outChannels] + out : [x[0]] + out + [outChannels]
    }

    /// Per-axis (begin, end) padding from either paddings format.
    static func padAmounts(
        format: Operator.PaddingsFormat,
        rank: Int,
        paddings: [Int]?,
        axes: [Int]?
    ) throws(Failure) -> (begins: [Int], ends: [Int]) {
        guard let paddings else { throw Failure(message: "the paddings must be a constant") }
        var begins = [Int](repeating: 0, count: rank)
        var ends = [Int](repeating: 0, count: rank)
        switch format {
        case .pairs:
            guard paddings.count == 2 * rank else {
                throw Failure(message: "paddings \(paddings) do not fit rank \(rank)")
            }
            for axis in 0..<rank {
                begins[axis] = paddings[2 * axis]
                ends[axis] = paddings[2 * axis + 1]
            }
        case .beginsThenEnds:
            let targets = axes ?? Array(0..<rank)
            guard paddings.count == 2 * targets.count else {
                throw Failure(message: "pads \(paddings) do not fit \(targets.count) axes")
            }
            for (index, rawAxis) in targets.enumerated() {
                guard let axis = normalizedAxis(rawAxis, rank: rank) else {
                    throw Failure(message: "axis \(rawAxis) is out of range")
                }
                begins[axis] = paddings[index]
                ends[axis] = paddings[index + targets.count]
            }
        }
        return (begins, ends)
    }
}
