import CMossInferenceKernels

/// Matrix products: a row-major SGEMM (OpenBLAS when present and the product is large enough to pay for the call,
/// a portable loop otherwise), and the MatMul and Gemm operators on top of it.
package enum MatrixProduct {
    /// Products smaller than this many multiply-adds stay in the portable kernel: for the tutorial's 3×6 layers a
    /// library call costs more than the arithmetic.
    static let blasThreshold = 16 * 1024

    /// C = alpha · op(A) · op(B) + beta · C, row-major, with leading dimensions.
    package static func sgemm(
        transposeA: Bool,
        transposeB: Bool,
        m: Int,
        n: Int,
        k: Int,
        alpha: Float,
        a: UnsafePointer<Float>,
        lda: Int,
        b: UnsafePointer<Float>,
        ldb: Int,
        beta: Float,
        c: UnsafeMutablePointer<Float>,
        ldc: Int
    ) {
        // One row (a classifier at batch 1): B read once in place, where SGEMM would repack it on every call.
        if m == 1, !transposeA, !transposeB, m * n * k >= blasThreshold,
            moss_row_times_matrix(a, b, ldb, Int32(k), Int32(n), alpha, beta, c) != 0
        {
            return
        }
        if m * n * k >= blasThreshold, let blas = OpenBLAS.sgemm {
            blas(
                OpenBLAS.rowMajor,
                transposeA ? OpenBLAS.transpose : OpenBLAS.noTranspose,
                transposeB ? OpenBLAS.transpose : OpenBLAS.noTranspose,
                Int32(m),
                Int32(n),
                Int32(k),
                alpha,
                a,
                Int32(lda),
                b,
                Int32(ldb),
                beta,
                c,
                Int32(ldc)
            )
            return
        }
        portableSGEMM(
            transposeA: transposeA,
            transposeB: transposeB,
            m: m,
            n: n,
            k: k,
            alpha: alpha,
            a: a,
            lda: lda,
            b: b,
            ldb: ldb,
            beta: beta,
            c: c,
            ldc: ldc
        )
    }

    package static func portableSGEMM(
        transposeA: Bool,
        transposeB: Bool,
        m: Int,
        n: Int,
        k: Int,
        alpha: Float,
        a: UnsafePointer<Float>,
        lda: Int,
        b: UnsafePointer<Float>,
        ldb: Int,
        beta: Float,
        c: UnsafeMutablePointer<Float>,
        ldc: Int
    ) {
        for i in 0..<m {
            let row = c + i * ldc
            if beta == 0 {
                row.update(repeating: 0, count: n)
            } else if beta != 1 {
                for j in 0..<n { row[j] *= beta }
            }
        }
        if !transposeB {
            // i-k-j: the inner loop runs along rows of B and C, which vectorises.
            for i in 0..<m {
                let row = c + i * ldc
                for p in 0..<k {
                    let scale = alpha * (transposeA ? a[p * lda + i] : a[i * lda + p])
                    if scale == 0 { continue }
                    let bRow = b + p * ldb
                    for j in 0..<n { row[j] += scale * bRow[j] }
                }
            }
        } else {
            // B is stored transposed: each element of C is a dot product of two contiguous rows.
            for i in 0..<m {
                for j in 0..<n {
                    let bRow = b + j * ldb
                    var sum: Float = 0
                    if transposeA {
                        for p in 0..<k { sum += a[p * lda + i] * bRow[p] }
                    } else {
                        let aRow = a + i * lda
                        for p in 0..<k { sum += aRow[p] * bRow[p] }
                    }
                    c[i * ldc + j] += alpha * sum
                }
            }
        }
    }

    /// NumPy `matmul` (batch axes broadcast, vectors promoted), with TensorFlow's optional transposes of the last two axes.
    static func matMul(
        a: UnsafePointer<Float>,
        aShape rawA: [Int],
        transposeA: Bool,
        b: UnsafePointer<Float>,
        bShape rawB: [Int],
        transposeB: Bool,
        out: UnsafeMutablePointer<Float>,
        outShape: [Int]
    ) -> Kernel {
        let aShape = rawA.count == 1 ? [1, rawA[0]] : rawA
        let bShape = rawB.count == 1 ? [rawB[0], 1] : rawB
        let m = transposeA ? aShape[aShape.count - 1] : aShape[aShape.count - 2]
        let k = transposeA ? aShape[aShape.count - 2] : aShape[aShape.count - 1]
        let n = transposeB ? bShape[bShape.count - 2] : bShape[bShape.count - 1]
        let lda = aShape[aShape.count - 1]
        let ldb = bShape[bShape.count - 1]
        let batchA = Array(aShape.dropLast(2))
        let batchB = Array(bShape.dropLast(2))
        let batch = Broadcast.shape(batchA, batchB)!
        // Offsets of each batch's matrices, computed once.
        let stridesA = Broadcast.strides(of: batchA, in: batch)
        let stridesB = Broadcast.strides(of: batchB, in: batch)
        let matrixA = aShape.suffix(2).elementCount
        let matrixB = bShape.suffix(2).elementCount
        var offsets: [(Int, Int)] = []
        for flat in 0..<batch.elementCount {
            var rest = flat
            var offsetA = 0
            var offsetB = 0
            for axis in batch.indices.reversed() {
                let index = rest % batch[axis]
                rest /= batch[axis]
                offsetA += index * stridesA[axis]
                offsetB += index * stridesB[axis]
            }
            offsets.append((offsetA * matrixA, offsetB * matrixB))
        }
        let matrixC = m * n
        _ = outShape
        return {
            for (index, (offsetA, offsetB)) in offsets.enumerated() {
                sgemm(
                    transposeA: transposeA,
                    transposeB: transposeB,
                    m: m,
                    n: n,
                    k: k,
                    alpha: 1,
                    a: a + offsetA,
                    lda: lda,
                    b: b + offsetB,
                    ldb: ldb,
                    beta: 0,
                    c: out + index * matrixC,
                    ldc: n
                )
            }
        }
    }

    /// ONNX Gemm: alpha · op(A) · op(B) + beta · C, with C broadcast to the result.
    static func gemm(
        a: UnsafePointer<Float>,
        aShape: [Int],
        transposeA: Bool,
        b: UnsafePointer<Float>,
        bShape: [Int],
        transposeB: Bool,
        c: UnsafePointer<Float>?,
        cShape: [Int]?,
        alpha: Float,
        beta: Float,
        out: UnsafeMutablePointer<Float>,
        outShape: [Int]
    ) -> Kernel {
        let m = outShape[0]
        let n = outShape[1]
        let k = transposeA ? aShape[0] : aShape[1]
        let lda = aShape[1]
        let ldb = bShape[1]
        let cStrides = cShape.map { Broadcast.strides(of: $0, in: outShape) }
        return {
            var addend: Float = 0
            if let c, let cStrides, beta != 0 {
                for i in 0..<m {
                    for j in 0..<n { out[i * n + j] = c[i * cStrides[0] + j * cStrides[1]] }
                }
                addend = beta
            }
            sgemm(
                transposeA: transposeA,
                transposeB: transposeB,
                m: m,
                n: n,
                k: k,
                alpha: alpha,
                a: a,
                lda: lda,
                b: b,
                ldb: ldb,
                beta: addend,
                c: out,
                ldc: n
            )
        }
    }
}
