/// Kernels that move elements without arithmetic: copy, pad, transpose, concatenate.
enum DataMovement {
    static func copy(x: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, count: Int) -> Kernel {
        { if UnsafePointer(out) != x { out.update(from: x, count: count) } }
    }

    /// Constant, reflect (mirror without repeating the edge) or edge padding, a row (last axis) at a time.
    static func pad(
        x: UnsafePointer<Float>,
        xShape: [Int],
        begins: [Int],
        mode: Operator.PadMode,
        value: Float,
        out: UnsafeMutablePointer<Float>,
        outShape: [Int]
    ) -> Kernel {
        let rank = outShape.count
        if rank == 0 { return copy(x: x, out: out, count: 1) }
        let xStrides = xShape.rowMajorStrides
        let rowLength = outShape[rank - 1]
        let rows = outShape.elementCount / Swift.max(rowLength, 1)
        let outerShape = Array(outShape.dropLast())

        /// The source index of output index `i` on an axis, or nil for a constant cell.
        @inline(__always) func source(_ i: Int, axis: Int) -> Int? {
            let s = i - begins[axis]
            let size = xShape[axis]
            if s >= 0 && s < size { return s }
            switch mode {
            case .constant: return nil
            case .edge: return s < 0 ? 0 : size - 1
            case .reflect:
                let period = 2 * (size - 1)
                var r = s % period
                if r < 0 { r += period }
                return r < size ? r : period - r
            }
        }
        let lastBegin = begins[rank - 1]
        let lastSize = xShape[rank - 1]
        // Which output columns map to which source columns, once.
        let columnSources = (0..<rowLength).map { source($0, axis: rank - 1) }
        let copyStart = Swift.max(0, lastBegin)
        let copyEnd = Swift.min(rowLength, lastBegin + lastSize)
        return {
            withUnsafeTemporaryAllocation(of: Int.self, capacity: Swift.max(outerShape.count, 1)) { index in
                index.initialize(repeating: 0)
                for row in 0..<rows {
                    let target = out + row * rowLength
                    var offset = 0
                    var inside = true
                    for axis in 0..<outerShape.count {
                        guard let s = source(index[axis], axis: axis) else {
                            inside = false
                            break
                        }
                        offset += s * xStrides[axis]
                    }
                    if !inside {
                        target.update(repeating: value, count: rowLength)
                    } else {
                        let sourceRow = x + offset
                        if copyEnd > copyStart {
                            (target + copyStart).update(
                                from: sourceRow + (copyStart - lastBegin),
                                count: copyEnd - copyStart
                            )
                        }
                        if mode == .constant {
                            target.update(repeating: value, count: Swift.min(copyStart, rowLength))
                            if copyEnd < rowLength {
                                (target + Swift.max(copyEnd, 0)).update(
                                    repeating: value,
                                    count: rowLength - Swift.max(copyEnd, 0)
                                )
                            }
                        } else {
                            for j in 0..<rowLength where j < copyStart || j >= copyEnd {
                                target[j] = columnSources[j].map { sourceRow[$0] } ?? value
                            }
                        }
                    }
                    var axis = outerShape.count - 1
                    while axis >= 0 {
                        index[axis] += 1
                        if index[axis] < outerShape[axis] { break }
                        index[axis] = 0
                        axis -= 1
                    }
                }
            }
        }
    }

    static func transpose(
        x: UnsafePointer<Float>,
        xShape: [Int],
        perm: [Int],
        out: UnsafeMutablePointer<Float>
    ) -> Kernel {
        let outShape = perm.map { xShape[$0] }
        let xStrides = xShape.rowMajorStrides
        let (shape, strides) = Elementwise.coalesce(
            shape: outShape,
            strides: [perm.map { xStrides[$0] }, outShape.rowMajorStrides]
        )
        let sourceStrides = strides[0]
        let inner = shape[shape.count - 1]
        let innerStride = sourceStrides[shape.count - 1]
        let outerShape = Array(shape.dropLast())
        let rows = outerShape.elementCount
        return {
            withUnsafeTemporaryAllocation(of: Int.self, capacity: Swift.max(outerShape.count, 1)) { index in
                index.initialize(repeating: 0)
                var offset = 0
                for row in 0..<rows {
                    let target = out + row * inner
                    for i in 0..<inner { target[i] = x[offset + i * innerStride] }
                    var axis = outerShape.count - 1
                    while axis >= 0 {
                        index[axis] += 1
                        offset += sourceStrides[axis]
                        if index[axis] < outerShape[axis] { break }
                        offset -= sourceStrides[axis] * outerShape[axis]
                        index[axis] = 0
                        axis -= 1
                    }
                }
            }
        }
    }

    static func concat(
        parts: [(UnsafePointer<Float>, [Int])],
        axis: Int,
        out: UnsafeMutablePointer<Float>,
        outShape: [Int]
    ) -> Kernel {
        let outer = outShape.product(0..<axis)
        let outChunk = outShape.product(axis..<outShape.count)
        let chunks = parts.map { (pointer: $0.0, length: $0.1.product(axis..<$0.1.count)) }
        return {
            for o in 0..<outer {
                var target = out + o * outChunk
                for chunk in chunks {
                    target.update(from: chunk.pointer + o * chunk.length, count: chunk.length)
                    target += chunk.length
                }
            }
        }
    }
}
