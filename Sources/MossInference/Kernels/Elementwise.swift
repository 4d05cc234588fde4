import CMossInferenceKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A binary function, as a type so that each kernel is specialised and its loop vectorised.
protocol BinaryFunction {
    static func apply(_ a: Float, _ b: Float) -> Float
}

private enum AddFunction: BinaryFunction {
    @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a + b }
}
private enum SubFunction: BinaryFunction {
    @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a - b }
}
private enum MulFunction: BinaryFunction {
    @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a * b }
}
// A true division, not a multiplication by the reciprocal: TensorFlow's RealDiv divides, and the standardiser's
// outputs then match TensorFlow's bit for bit.
private enum DivFunction: BinaryFunction {
    @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a / b }
}

/// Elementwise kernels: NumPy broadcasting for binary operators, and the activations.
enum Elementwise {
    static func binary(
        _ op: Operator.Binary,
        a: UnsafePointer<Float>,
        aShape: [Int],
        b: UnsafePointer<Float>,
        bShape: [Int],
        out: UnsafeMutablePointer<Float>,
        outShape: [Int]
    ) -> Kernel {
        switch op {
        case .add:
            broadcasting(AddFunction.self, a: a, aShape: aShape, b: b, bShape: bShape, out: out, outShape: outShape)
        case .sub:
            broadcasting(SubFunction.self, a: a, aShape: aShape, b: b, bShape: bShape, out: out, outShape: outShape)
        case .mul:
            broadcasting(MulFunction.self, a: a, aShape: aShape, b: b, bShape: bShape, out: out, outShape: outShape)
        case .div:
            broadcasting(DivFunction.self, a: a, aShape: aShape, b: b, bShape: bShape, out: out, outShape: outShape)
        }
    }

    /// Merges adjacent axes that both operands traverse contiguously, so the inner loop is as long as possible.
    static func coalesce(shape: [Int], strides: [[Int]]) -> (shape: [Int], strides: [[Int]]) {
        var mergedShape: [Int] = []
        var merged: [[Int]] = strides.map { _ in [] }
        for axis in shape.indices where shape[axis] != 1 {
            if let lastSize = mergedShape.last,
                strides.indices.allSatisfy({ merged[$0].last! == strides[$0][axis] * shape[axis] })
            {
                mergedShape[mergedShape.count - 1] = lastSize * shape[axis]
                for operand in strides.indices { merged[operand][merged[operand].count - 1] = strides[operand][axis] }
            } else {
                mergedShape.append(shape[axis])
                for operand in strides.indices { merged[operand].append(strides[operand][axis]) }
            }
        }
        if mergedShape.isEmpty { return ([1], strides.map { _ in [0] }) }
        return (mergedShape, merged)
    }

    private static func broadcasting<F: BinaryFunction>(
        _: F.Type,
        a: UnsafePointer<Float>,
        aShape: [Int],
        b: UnsafePointer<Float>,
        bShape: [Int],
        out: UnsafeMutablePointer<Float>,
        outShape: [Int]
    ) -> Kernel {
        let count = outShape.elementCount
        if aShape.elementCount == count && bShape.elementCount == count {
            return { for i in 0..<count { out[i] = F.apply(a[i], b[i]) } }
        }
        let (shape, strides) = coalesce(
            shape: outShape,
            strides: [
                Broadcast.strides(of: aShape, in: outShape), Broadcast.strides(of: bShape, in: outShape),
                outShape.rowMajorStrides,
            ]
        )
        let inner = shape[shape.count - 1]
        let innerA = strides[0][shape.count - 1]
        let innerB = strides[1][shape.count - 1]
        let outerShape = Array(shape.dropLast())
        let outerA = Array(strides[0].dropLast())
        let outerB = Array(strides[1].dropLast())
        let rows = outerShape.elementCount
        return {
            // A stack buffer for the odometer: running the kernel allocates nothing.
            withUnsafeTemporaryAllocation(of: Int.self, capacity: Swift.max(outerShape.count, 1)) { index in
                index.initialize(repeating: 0)
                var offsetA = 0
                var offsetB = 0
                for row in 0..<rows {
                    let o = out + row * inner
                    let pa = a + offsetA
                    let pb = b + offsetB
                    if innerA == 1 && innerB == 1 {
                        for i in 0..<inner { o[i] = F.apply(pa[i], pb[i]) }
                    } else if innerB == 0 {
                        let y = pb[0]
                        for i in 0..<inner { o[i] = F.apply(pa[i * innerA], y) }
                    } else if innerA == 0 {
                        let x = pa[0]
                        for i in 0..<inner { o[i] = F.apply(x, pb[i * innerB]) }
                    } else {
                        for i in 0..<inner { o[i] = F.apply(pa[i * innerA], pb[i * innerB]) }
                    }
                    // Advance the odometer over the outer axes.
                    var axis = outerShape.count - 1
                    while axis >= 0 {
                        index[axis] += 1
                        offsetA += outerA[axis]
                        offsetB += outerB[axis]
                        if index[axis] < outerShape[axis] { break }
                        offsetA -= outerA[axis] * outerShape[axis]
                        offsetB -= outerB[axis] * outerShape[axis]
                        index[axis] = 0
                        axis -= 1
                    }
                }
            }
        }
    }

    static func unary(
        _ op: Operator.Unary,
        x: UnsafePointer<Float>,
        out: UnsafeMutablePointer<Float>,
        count: Int
    ) -> Kernel {
        switch op {
        case .sigmoid:
            return { for i in 0..<count { out[i] = sigmoid(x[i]) } }
        case .relu:
            // `x > 0 ? x : 0` keeps NaN as NaN only for x itself; relu of NaN is NaN in TensorFlow and ONNX Runtime too.
            return { for i in 0..<count { out[i] = x[i] > 0 || x[i].isNaN ? x[i] : 0 } }
        case .tanh:
            return { for i in 0..<count { out[i] = tanhf(x[i]) } }
        }
    }

    @inline(__always) static func sigmoid(_ x: Float) -> Float {
        1 / (1 + expf(-x))
    }

    static func clip(
        x: UnsafePointer<Float>,
        out: UnsafeMutablePointer<Float>,
        count: Int,
        low: Float,
        high: Float
    ) -> Kernel {
        { moss_clip(x, out, count, low, high) }
    }
}
