/// Shape arithmetic shared by the loaders, the planner and the kernels.
extension Array where Element == Int {
    /// The number of elements of a tensor of this shape (1 for a scalar).
    var elementCount: Int { reduce(1, *) }

    /// Row-major strides, in elements.
    var rowMajorStrides: [Int] {
        var strides = [Int](repeating: 1, count: count)
        var stride = 1
        for axis in indices.reversed() {
            strides[axis] = stride
            stride *= self[axis]
        }
        return strides
    }

    /// The product of the dimensions in `range`.
    func product(_ range: Range<Int>) -> Int { self[range].reduce(1, *) }
}

enum Broadcast {
    /// NumPy's multidirectional broadcasting, used by TensorFlow's and ONNX's elementwise ops.
    static func shape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = Swift.max(a.count, b.count)
        var result = [Int](repeating: 1, count: rank)
        for index in 0..<rank {
            let x = index < rank - a.count ? 1 : a[index - (rank - a.count)]
            let y = index < rank - b.count ? 1 : b[index - (rank - b.count)]
            if x == y || y == 1 {
                result[index] = x
            } else if x == 1 {
                result[index] = y
            } else {
                return nil
            }
        }
        return result
    }

    /// Strides that read an input of `shape` as if it had the (broadcast) shape `output`: 0 on broadcast axes.
    static func strides(of shape: [Int], in output: [Int]) -> [Int] {
        let own = shape.rowMajorStrides
        let offset = output.count - shape.count
        return output.indices.map { axis in
            axis < offset || shape[axis - offset] == 1 ? 0 : own[axis - offset]
        }
    }
}

/// Resolves a possibly negative axis against a rank, or nil if it is out of range.
func normalizedAxis(_ axis: Int, rank: Int) -> Int? {
    let resolved = axis < 0 ? axis + rank : axis
    return (0..<rank).contains(resolved) ? resolved : nil
}
