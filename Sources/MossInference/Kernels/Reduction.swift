#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Softmax and means over axes.
enum Reduction {
    /// Softmax along one axis (ONNX opset 13 and TensorFlow semantics), with the maximum subtracted for stability.
    static func softmax(x: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, shape: [Int], axis: Int) -> Kernel {
        let outer = shape.product(0..<axis)
        let length = shape.isEmpty ? 1 : shape[axis]
        let inner = shape.isEmpty ? 1 : shape.product((axis + 1)..<shape.count)
        return {
            for o in 0..<outer {
                for i in 0..<inner {
                    let base = o * length * inner + i
                    var maximum = -Float.infinity
                    for j in 0..<length { maximum = Swift.max(maximum, x[base + j * inner]) }
                    var sum: Float = 0
                    for j in 0..<length {
                        let e = expf(x[base + j * inner] - maximum)
                        out[base + j * inner] = e
                        sum += e
                    }
                    for j in 0..<length { out[base + j * inner] /= sum }
                }
            }
        }
    }

    /// The mean over `axes`; the output layout is the input's without those axes (kept or not, it is the same order).
    static func mean(x: UnsafePointer<Float>, shape: [Int], axes: Set<Int>, out: UnsafeMutablePointer<Float>) -> Kernel
    {
        let reducedCount = axes.reduce(1) { $0 * shape[$1] }
        let outCount = shape.elementCount / Swift.max(reducedCount, 1)
        let sorted = axes.sorted()
        if let first = sorted.first, sorted.last! - first + 1 == sorted.count {
            // Contiguous reduced axes: out[o, i] = mean over r of x[o, r, i].
            let outer = shape.product(0..<first)
            let middle = reducedCount
            let inner = shape.product((sorted.last! + 1)..<shape.count)
            let scale = 1 / Float(middle)
            if inner == 1 {
                // A suffix of axes (GlobalAveragePool in NCHW): one running sum in a register per output.
                return {
                    for o in 0..<outer {
                        let source = x + o * middle
                        var sum: Float = 0
                        for r in 0..<middle { sum += source[r] }
                        out[o] = sum * scale
                    }
                }
            }
            return {
                for o in 0..<outer {
                    let row = out + o * inner
                    row.update(repeating: 0, count: inner)
                    for r in 0..<middle {
                        let source = x + (o * middle + r) * inner
                        for i in 0..<inner { row[i] += source[i] }
                    }
                    for i in 0..<inner { row[i] *= scale }
                }
            }
        }
        // Scattered axes: accumulate each input element into its output cell.
        let outStrides: [Int] = {
            var strides = [Int](repeating: 0, count: shape.count)
            var stride = 1
            for axis in shape.indices.reversed() where !axes.contains(axis) {
                strides[axis] = stride
                stride *= shape[axis]
            }
            return strides
        }()
        let total = shape.elementCount
        let scale = 1 / Float(reducedCount)
        return {
            out.update(repeating: 0, count: outCount)
            withUnsafeTemporaryAllocation(of: Int.self, capacity: Swift.max(shape.count, 1)) { index in
                index.initialize(repeating: 0)
                var offset = 0
                for flat in 0..<total {
                    out[offset] += x[flat]
                    var axis = shape.count - 1
                    while axis >= 0 {
                        index[axis] += 1
                        offset += outStrides[axis]
                        if index[axis] < shape[axis] { break }
                        offset -= outStrides[axis] * shape[axis]
                        index[axis] = 0
                        axis -= 1
                    }
                }
            }
            for i in 0..<outCount { out[i] *= scale }
        }
    }
}
