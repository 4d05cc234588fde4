/// What a kernel is bound to: its buffers, their shapes, its static operands and its scratch space.
struct KernelContext {
    /// Buffers of the inputs; nil for omitted inputs and static operands.
    var inputs: [UnsafeMutablePointer<Float>?]
    var inputShapes: [[Int]?]
    var outputs: [UnsafeMutablePointer<Float>]
    var outputShapes: [[Int]]
    var statics: [Int: Tensor]
    var scratch: UnsafeMutablePointer<Float>?
    /// Whether each input's value is fixed when the plan is made (a constant or a view of one), so a kernel may
    /// repack it once.
    var constant: [Bool] = []

    func isConstant(_ index: Int) -> Bool { index < constant.count && constant[index] }

    func input(_ index: Int) -> UnsafePointer<Float>? {
        index < inputs.count ? inputs[index].map { UnsafePointer($0) } : nil
    }

    func shape(_ index: Int) -> [Int] { inputShapes[index]! }

    /// A static scalar operand converted to Float.
    func staticScalar(_ index: Int) throws(ShapeInference.Failure) -> Float? {
        guard let tensor = statics[index] else { return nil }
        guard tensor.elementCount == 1 else {
            throw .init(message: "operand \(index) must be a scalar, got shape \(tensor.shape)")
        }
        return Float(tensor.doubles[0])
    }
}

/// Binds each operator to its kernel.
enum KernelFactory {
    typealias Failure = ShapeInference.Failure

    static func scratchCount(_ op: Operator, inputShapes: [[Int]?], outputShapes: [[Int]]) -> Int {
        switch op {
        case .convolution(let conv):
            guard let x = inputShapes[0], let filter = inputShapes[1] else { return 0 }
            return Convolution.scratchCount(conv, x: x, filter: filter, output: outputShapes[0])
        case .batchNormalization(_, let layout):
            guard let x = inputShapes[0] else { return 0 }
            return 2 * (layout == .nchw ? (x.count > 1 ? x[1] : 1) : (x.last ?? 1))
        default:
            return 0
        }
    }

    static func makeKernel(_ op: Operator, _ context: KernelContext) throws(Failure) -> Kernel? {
        let out = context.outputs[0]
        let outShape = context.outputShapes[0]
        switch op {
        case .identity, .reshape, .squeeze, .unsqueeze, .flatten:
            // Views share their input's buffer; nothing to do.
            return nil

        case .binary(let binary):
            guard let a = context.input(0), let b = context.input(1) else {
                throw Failure(message: "operands must be float32 tensors")
            }
            return Elementwise.binary(
                binary,
                a: a,
                aShape: context.shape(0),
                b: b,
                bShape: context.shape(1),
                out: out,
                outShape: outShape
            )

        case .unary(let unary):
            guard let x = context.input(0) else { throw Failure(message: "the operand must be a float32 tensor") }
            return Elementwise.unary(unary, x: x, out: out, count: outShape.elementCount)

        case .clip:
            guard let x = context.input(0) else { throw Failure(message: "the operand must be a float32 tensor") }
            let low = try context.staticScalar(1) ?? -.infinity
            let high = try context.staticScalar(2) ?? .infinity
            return Elementwise.clip(x: x, out: out, count: outShape.elementCount, low: low, high: high)

        case .matMul(let transposeA, let transposeB):
            guard let a = context.input(0), let b = context.input(1) else {
                throw Failure(message: "operands must be float32 tensors")
            }
            return MatrixProduct.matMul(
                a: a,
                aShape: context.shape(0),
                transposeA: transposeA,
                b: b,
                bShape: context.shape(1),
                transposeB: transposeB,
                out: out,
                outShape: outShape
            )

        case .gemm(let alpha, let beta, let transposeA, let transposeB):
            guard let a = context.input(0), let b = context.input(1) else {
                throw Failure(message: "operands must be float32 tensors")
            }
            return MatrixProduct.gemm(
                a: a,
                aShape: context.shape(0),
                transposeA: transposeA,
                b: b,
                bShape: context.shape(1),
                transposeB: transposeB,
                c: context.input(2),
                cShape: context.inputShapes.count > 2 ? context.inputShapes[2] : nil,
                alpha: alpha,
                beta: beta,
                out: out,
                outShape: outShape
            )

        case .softmax(let axis):
            guard let x = context.input(0) else { throw Failure(message: "the operand must be a float32 tensor") }
            return Reduction.softmax(
                x: x,
                out: out,
                shape: outShape,
                axis: normalizedAxis(axis, rank: Swift.max(outShape.count, 1))!
            )

        case .convolution(let conv):
            guard let x = context.input(0), let filter = context.input(1) else {
                throw Failure(message: "operands must be float32 tensors")
            }
            return Convolution.kernel(
                conv,
                x: x,
                xShape: context.shape(0),
                filter: filter,
                filterShape: context.shape(1),
                bias: context.input(2),
                out: out,
                outShape: outShape,
                scratch: context.scratch,
                constantWeights: context.isConstant(1) && (context.input(2) == nil || context.isConstant(2))
            )

        case .batchNormalization(let epsilon, let layout):
            let operands = (0..<5).map { context.input($0) }
            guard let x = operands[0], let scale = operands[1], let bias = operands[2], let mean = operands[3],
                let variance = operands[4]
            else {
                throw Failure(message: "BatchNormalization needs x, scale, bias, mean and variance as float32 tensors")
            }
            let channels = layout == .nchw ? (outShape.count > 1 ? outShape[1] : 1) : (outShape.last ?? 1)
            for index in 1...4 where context.shape(index) != [channels] {
                throw Failure(message: "operand \(index) has shape \(context.shape(index)), expected [\(channels)]")
            }
            return Normalization.batchNorm(
                x: x,
                scale: scale,
                bias: bias,
                mean: mean,
                variance: variance,
                epsilon: epsilon,
                layout: layout,
                shape: outShape,
                out: out,
                scratch: context.scratch!
            )

        case .pool(let pool):
            guard let x = context.input(0) else { throw Failure(message: "the operand must be a float32 tensor") }
            return try Pooling.kernel(pool, x: x, xShape: context.shape(0), out: out, outShape: outShape)

        case .reduceMean(let fixedAxes, _, let noop):
            guard let x = context.input(0) else { throw Failure(message: "the operand must be a float32 tensor") }
            let xShape = context.shape(0)
            var axes = (fixedAxes ?? context.statics[1]?.integers ?? []).map { normalizedAxis($0, rank: xShape.count)! }
            if axes.isEmpty {
                if noop { return DataMovement.copy(x: x, out: out, count: outShape.elementCount) }
                axes = Array(xShape.indices)
            }
            return Reduction.mean(x: x, shape: xShape, axes: Set(axes), out: out)

        case .globalAveragePool:
            guard let x = context.input(0) else { throw Failure(message: "the operand must be a float32 tensor") }
            let xShape = context.shape(0)
            return Reduction.mean(x: x, shape: xShape, axes: Set(2..<xShape.count), out: out)

        case .pad(let mode, let format):
            guard let x = context.input(0) else { throw Failure(message: "the operand must be a float32 tensor") }
            let xShape = context.shape(0)
            let (begins, _) = try ShapeInference.padAmounts(
                format: format,
                rank: xShape.count,
                paddings: context.statics[1]?.integers,
                axes: context.statics[3]?.integers
            )
            let value = try context.staticScalar(2) ?? 0
            if mode == .reflect {
                for axis in xShape.indices where outShape[axis] != xShape[axis] && xShape[axis] < 2 {
                    throw Failure(message: "reflect padding needs at least 2 elements on axis \(axis)")
                }
            }
            if mode != .constant, xShape.elementCount == 0, outShape.elementCount > 0 {
                throw Failure(message: "\(mode) padding of an empty tensor")
            }
            return DataMovement.pad(
                x: x,
                xShape: xShape,
                begins: begins,
                mode: mode,
                value: value,
                out: out,
                outShape: outShape
            )

        case .transpose(let fixedPerm):
            guard let x = context.input(0) else { throw Failure(message: "the operand must be a float32 tensor") }
            let xShape = context.shape(0)
            let perm = fixedPerm ?? context.statics[1]?.integers ?? Array(xShape.indices.reversed())
            return DataMovement.transpose(x: x, xShape: xShape, perm: perm, out: out)

        case .concat(let fixedAxis):
            let count = fixedAxis == nil ? context.inputs.count - 1 : context.inputs.count
            var parts: [(UnsafePointer<Float>, [Int])] = []
            for index in 0..<count {
                guard let part = context.input(index) else {
                    throw Failure(message: "operand \(index) must be a float32 tensor")
                }
                parts.append((part, context.shape(index)))
            }
            let axis = normalizedAxis(
                fixedAxis ?? context.statics[context.inputs.count - 1]!.integers![0],
                rank: outShape.count
            )!
            return DataMovement.concat(parts: parts, axis: axis, out: out, outShape: outShape)
        }
    }
}
