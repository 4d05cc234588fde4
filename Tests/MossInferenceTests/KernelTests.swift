import CMossInferenceKernels
import Testing

@testable import MossInference

/// Kernels against direct reference implementations written independently in the tests.
@Suite struct KernelTests {
    @Test func broadcastingShapes() {
        #expect(Broadcast.shape([2, 3, 1], [1, 4]) == [2, 3, 4])
        #expect(Broadcast.shape([3], [1, 3]) == [1, 3])
        #expect(Broadcast.shape([], [5]) == [5])
        #expect(Broadcast.shape([2, 3], [3, 2]) == nil)
    }

    @Test(arguments: [([2, 3, 1], [1, 4]), ([4, 1, 3], [3]), ([1, 3], [2, 1]), ([5], [])])
    func binaryOperatorsBroadcast(aShape: [Int], bShape: [Int]) throws {
        var random = SeededGenerator(seed: 1)
        let a = random.tensor(aShape)
        let b = random.tensor(bShape)
        let shape = try #require(Broadcast.shape(aShape, bShape))
        for (op, f) in [
            (Operator.Binary.add, { (x: Float, y: Float) in x + y }), (.sub, { $0 - $1 }), (.mul, { $0 * $1 }),
            (.div, { $0 / $1 }),
        ] {
            let got = try run(.binary(op), inputs: [a, b])[0]
            #expect(got.shape == shape)
            let sa = Broadcast.strides(of: aShape, in: shape)
            let sb = Broadcast.strides(of: bShape, in: shape)
            let strides = shape.rowMajorStrides
            for flat in 0..<shape.elementCount {
                var oa = 0
                var ob = 0
                for axis in shape.indices {
                    let i = flat / strides[axis] % shape[axis]
                    oa += i * sa[axis]
                    ob += i * sb[axis]
                }
                #expect(got.floats![flat] == f(a.floats![oa], b.floats![ob]))
            }
        }
    }

    @Test func portableSGEMMMatchesDirectProducts() {
        var random = SeededGenerator(seed: 2)
        let (m, n, k) = (5, 7, 9)
        for transposeA in [false, true] {
            for transposeB in [false, true] {
                let a = random.tensor(transposeA ? [k, m] : [m, k])
                let b = random.tensor(transposeB ? [n, k] : [k, n])
                var c = [Float](repeating: 0.5, count: m * n)
                a.floats!.withUnsafeBufferPointer { pa in
                    b.floats!.withUnsafeBufferPointer { pb in
                        c.withUnsafeMutableBufferPointer { pc in
                            MatrixProduct.portableSGEMM(
                                transposeA: transposeA,
                                transposeB: transposeB,
                                m: m,
                                n: n,
                                k: k,
                                alpha: 2,
                                a: pa.baseAddress!,
                                lda: a.shape[1],
                                b: pb.baseAddress!,
                                ldb: b.shape[1],
                                beta: 3,
                                c: pc.baseAddress!,
                                ldc: n
                            )
                        }
                    }
                }
                for i in 0..<m {
                    for j in 0..<n {
                        var sum: Float = 0
                        for p in 0..<k {
                            sum += (transposeA ? a[[p, i]] : a[[i, p]]) * (transposeB ? b[[j, p]] : b[[p, j]])
                        }
                        #expect(abs(c[i * n + j] - (2 * sum + 1.5)) < 1e-4)
                    }
                }
            }
        }
    }

    /// Large enough to take the OpenBLAS path when the library is present.
    @Test func largeMatMulWithBatchBroadcasting() throws {
        var random = SeededGenerator(seed: 3)
        let a = random.tensor([2, 1, 40, 50])
        let b = random.tensor([3, 50, 30])
        let got = try run(.matMul(transposeA: false, transposeB: false), inputs: [a, b])[0]
        #expect(got.shape == [2, 3, 40, 30])
        for (i, j, p, q) in [(0, 0, 0, 0), (1, 2, 39, 29), (1, 1, 17, 3), (0, 2, 5, 28)] {
            var sum: Float = 0
            for r in 0..<50 { sum += a[[i, 0, p, r]] * b[[j, r, q]] }
            #expect(abs(got[[i, j, p, q]] - sum) < 1e-4)
        }
    }

    /// One row times a matrix (a classifier at batch 1) takes the C row kernel: 64-column blocks and a masked tail.
    @Test func rowTimesMatrix() throws {
        var random = SeededGenerator(seed: 5)
        let a = random.tensor([1, 300])
        let b = random.tensor([300, 141])
        let got = try run(.matMul(transposeA: false, transposeB: false), inputs: [a, b])[0]
        #expect(got.shape == [1, 141])
        for q in 0..<141 {
            var sum: Float = 0
            for r in 0..<300 { sum += a[[0, r]] * b[[r, q]] }
            #expect(abs(got[[0, q]] - sum) < 1e-4)
        }
        let c = random.tensor([141])
        let gemm = try run(
            .gemm(alpha: 0.5, beta: 2, transposeA: false, transposeB: false),
            inputs: [a, b, c]
        )[0]
        for q in [0, 63, 64, 127, 128, 140] {
            var sum: Float = 0
            for r in 0..<300 { sum += a[[0, r]] * b[[r, q]] }
            #expect(abs(gemm[[0, q]] - (0.5 * sum + 2 * c[[q]])) < 1e-4)
        }
    }

    struct ConvolutionCase: Sendable, CustomTestStringConvertible {
        var x: [Int]
        var w: [Int]
        var strides: [Int]
        var dilations: [Int]
        var pads: [Int]
        var group: Int
        var testDescription: String { "x\(x) w\(w) s\(strides) d\(dilations) p\(pads) g\(group)" }
    }

    static let convolutions: [ConvolutionCase] = [
        .init(x: [1, 3, 7, 6], w: [4, 3, 3, 3], strides: [1, 1], dilations: [1, 1], pads: [1, 1, 1, 1], group: 1),
        .init(x: [2, 4, 9, 8], w: [6, 2, 3, 2], strides: [2, 1], dilations: [1, 2], pads: [0, 1, 2, 1], group: 2),
        .init(x: [1, 8, 6, 6], w: [8, 1, 3, 3], strides: [2, 2], dilations: [1, 1], pads: [1, 1, 1, 1], group: 8),
        .init(x: [1, 5, 4, 4], w: [7, 5, 1, 1], strides: [1, 1], dilations: [1, 1], pads: [0, 0, 0, 0], group: 1),
        // Wide enough rows for the vector paths of the C depthwise kernel, stride 1 and 2.
        .init(
            x: [2, 4, 21, 20],
            w: [4, 1, 3, 3],
            strides: [2, 2],
            dilations: [1, 1],
            pads: [1, 1, 1, 1],
            group: 4
        ),
        .init(x: [1, 3, 9, 19], w: [3, 1, 3, 3], strides: [1, 1], dilations: [2, 1], pads: [2, 1, 2, 1], group: 3),
        .init(
            x: [1, 16, 12, 12],
            w: [8, 16, 3, 3],
            strides: [1, 1],
            dilations: [1, 1],
            pads: [1, 1, 1, 1],
            group: 1
        ),
    ]

    @Test(arguments: convolutions)
    func convolutionInBothLayouts(_ c: ConvolutionCase) throws {
        var random = SeededGenerator(seed: 4)
        let x = random.tensor(c.x)
        let w = random.tensor(c.w)
        let bias = random.tensor([c.w[0]])
        let expected = referenceConvolution(
            x: x,
            w: w,
            bias: bias,
            strides: c.strides,
            dilations: c.dilations,
            pads: c.pads,
            group: c.group
        )

        let nchw = Operator.Convolution(
            layout: .nchw,
            filterLayout: .oihw,
            strides: c.strides,
            dilations: c.dilations,
            padding: .explicit(c.pads),
            group: c.group
        )
        let got = try run(.convolution(nchw), inputs: [x, w, bias])[0]
        #expect(maxDifference(got, expected) < 1e-4)

        // The same convolution as TensorFlow lays it out: NHWC data, HWIO (or HWIM for depthwise) filters.
        let depthwise = c.group == c.x[1] && c.group > 1
        if c.group == 1 || depthwise {
            let filter = depthwise ? permuted(w, [2, 3, 0, 1]) : permuted(w, [2, 3, 1, 0])
            let nhwc = Operator.Convolution(
                layout: .nhwc,
                filterLayout: depthwise ? .hwim : .hwio,
                strides: c.strides,
                dilations: c.dilations,
                padding: .explicit(c.pads),
                group: 1
            )
            let gotNHWC = try run(.convolution(nhwc), inputs: [permuted(x, [0, 2, 3, 1]), filter, bias])[0]
            #expect(maxDifference(gotNHWC, permuted(expected, [0, 2, 3, 1])) < 1e-4)
        }
    }

    /// Convolutions with constant weights and a fused clamp: the 1×1 case takes the packed C micro-kernels (tiles of
    /// 6×16 with row and column remainders), the depthwise 3×3 case its specialised kernels; both layouts, against
    /// the reference followed by the clamp.
    static let fusedConvolutions: [ConvolutionCase] = [
        .init(x: [1, 5, 4, 4], w: [7, 5, 1, 1], strides: [1, 1], dilations: [1, 1], pads: [0, 0, 0, 0], group: 1),
        .init(x: [2, 33, 7, 5], w: [20, 33, 1, 1], strides: [1, 1], dilations: [1, 1], pads: [0, 0, 0, 0], group: 1),
        .init(x: [1, 16, 9, 9], w: [24, 16, 1, 1], strides: [1, 1], dilations: [1, 1], pads: [0, 0, 0, 0], group: 1),
        .init(x: [1, 8, 3, 2], w: [9, 8, 1, 1], strides: [1, 1], dilations: [1, 1], pads: [0, 0, 0, 0], group: 1),
        .init(x: [1, 16, 19, 21], w: [16, 1, 3, 3], strides: [1, 1], dilations: [1, 1], pads: [1, 1, 1, 1], group: 16),
        .init(x: [2, 8, 20, 23], w: [8, 1, 3, 3], strides: [2, 2], dilations: [1, 1], pads: [0, 0, 1, 1], group: 8),
        .init(x: [1, 8, 17, 17], w: [8, 1, 3, 3], strides: [2, 2], dilations: [1, 1], pads: [1, 1, 1, 1], group: 8),
        .init(x: [1, 24, 6, 5], w: [24, 1, 3, 3], strides: [2, 2], dilations: [1, 1], pads: [1, 0, 1, 2], group: 24),
    ]

    @Test(arguments: fusedConvolutions)
    func constantWeightsWithClamp(_ c: ConvolutionCase) throws {
        var random = SeededGenerator(seed: 9)
        let x = random.tensor(c.x)
        let w = random.tensor(c.w)
        let bias = random.tensor([c.w[0]])
        let clamp: ClosedRange<Float> = -0.25...0.5
        let reference = referenceConvolution(
            x: x,
            w: w,
            bias: bias,
            strides: c.strides,
            dilations: c.dilations,
            pads: c.pads,
            group: c.group
        )
        let expected = Tensor(
            shape: reference.shape,
            floats: reference.floats!.map { Swift.min(Swift.max($0, clamp.lowerBound), clamp.upperBound) }
        )
        for generic in [false, true] {
            moss_kernels_force_generic(generic ? 1 : 0)
            defer { moss_kernels_force_generic(0) }
            let nchw = Operator.Convolution(
                layout: .nchw,
                filterLayout: .oihw,
                strides: c.strides,
                dilations: c.dilations,
                padding: .explicit(c.pads),
                group: c.group,
                clamp: clamp
            )
            let got = try run(.convolution(nchw), inputs: [x], constants: [1: w, 2: bias])[0]
            #expect(maxDifference(got, expected) < 1e-4, "NCHW, generic: \(generic)")

            let depthwise = c.group > 1
            let filter = depthwise ? permuted(w, [2, 3, 0, 1]) : permuted(w, [2, 3, 1, 0])
            let nhwc = Operator.Convolution(
                layout: .nhwc,
                filterLayout: depthwise ? .hwim : .hwio,
                strides: c.strides,
                dilations: c.dilations,
                padding: .explicit(c.pads),
                group: 1,
                clamp: clamp
            )
            let gotNHWC = try run(
                .convolution(nhwc),
                inputs: [permuted(x, [0, 2, 3, 1])],
                constants: [1: filter, 2: bias]
            )[0]
            #expect(maxDifference(gotNHWC, permuted(expected, [0, 2, 3, 1])) < 1e-4, "NHWC, generic: \(generic)")
        }
    }

    /// The portable C variants, which a CPU without AVX2 runs, against the same references.
    @Test func portableCKernels() throws {
        moss_kernels_force_generic(1)
        defer { moss_kernels_force_generic(0) }
        for c in Self.convolutions where c.group > 1 { try convolutionInBothLayouts(c) }
        let x = Tensor(shape: [19], floats: (0..<19).map { Float($0) - 9 })
        let clipped = try run(.clip, inputs: [x], constants: [1: Tensor(scalar: -2), 2: Tensor(scalar: 6)])[0]
        #expect(clipped.floats! == x.floats!.map { Swift.min(Swift.max($0, -2), 6) })
    }

    @Test func samePaddingMatchesTensorFlowsRule() throws {
        // TensorFlow SAME with stride 2 on an even input pads one cell at the end only.
        let x = Tensor(shape: [1, 4, 4, 1], floats: (0..<16).map(Float.init))
        let w = Tensor(shape: [3, 3, 1, 1], floats: Array(repeating: 1, count: 9))
        let conv = Operator.Convolution(
            layout: .nhwc,
            filterLayout: .hwio,
            strides: [2, 2],
            dilations: [1, 1],
            padding: .sameUpper,
            group: 1
        )
        let got = try run(.convolution(conv), inputs: [x, w])[0]
        #expect(got.shape == [1, 2, 2, 1])
        // Windows rows 0–2 × columns 0–2, 0–2 × 2–3, 2–3 × 0–2, 2–3 × 2–3.
        #expect(got.floats! == [45, 39, 66, 50])
    }

    @Test func poolingExcludesOrIncludesPadding() throws {
        let x = Tensor(shape: [1, 1, 3, 3], floats: (1...9).map(Float.init))
        let window = Operator.Window(
            kernel: [2, 2],
            strides: [2, 2],
            dilations: [1, 1],
            padding: .explicit([1, 1, 1, 1])
        )
        let max = try run(.pool(.init(kind: .max, layout: .nchw, window: window, countIncludePad: false)), inputs: [x])[
            0
        ]
        #expect(max.floats! == [1, 3, 7, 9])
        let average = try run(
            .pool(.init(kind: .average, layout: .nchw, window: window, countIncludePad: false)),
            inputs: [x]
        )[0]
        #expect(average.floats! == [1, 2.5, 5.5, 7])
        let padded = try run(
            .pool(.init(kind: .average, layout: .nchw, window: window, countIncludePad: true)),
            inputs: [x]
        )[0]
        #expect(padded.floats! == [0.25, 1.25, 2.75, 7])
    }

    @Test func padModes() throws {
        let x = Tensor(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6])
        let pads = Tensor(shape: [4], int64s: [1, 2, 0, 1])
        let constant = try run(
            .pad(mode: .constant, format: .beginsThenEnds),
            inputs: [x],
            constants: [1: pads, 2: Tensor(scalar: 9)]
        )[0]
        #expect(constant.shape == [3, 6])
        #expect(constant.floats! == [9, 9, 9, 9, 9, 9, 9, 9, 1, 2, 3, 9, 9, 9, 4, 5, 6, 9])
        let reflect = try run(.pad(mode: .reflect, format: .beginsThenEnds), inputs: [x], constants: [1: pads])[0]
        #expect(reflect.floats! == [6, 5, 4, 5, 6, 5, 3, 2, 1, 2, 3, 2, 6, 5, 4, 5, 6, 5])
        let edge = try run(.pad(mode: .edge, format: .beginsThenEnds), inputs: [x], constants: [1: pads])[0]
        #expect(edge.floats! == [1, 1, 1, 2, 3, 3, 1, 1, 1, 2, 3, 3, 4, 4, 4, 5, 6, 6])
    }

    @Test func transposeAndConcat() throws {
        var random = SeededGenerator(seed: 5)
        let x = random.tensor([2, 3, 4, 5])
        let got = try run(.transpose(perm: [2, 0, 3, 1]), inputs: [x])[0]
        #expect(got == permuted(x, [2, 0, 3, 1]))
        let a = random.tensor([2, 1, 3])
        let b = random.tensor([2, 2, 3])
        let joined = try run(.concat(axis: 1), inputs: [a, b])[0]
        #expect(joined.shape == [2, 3, 3])
        #expect(joined[[1, 0, 2]] == a[[1, 0, 2]])
        #expect(joined[[1, 2, 1]] == b[[1, 1, 1]])
    }

    @Test func softmaxAndMeans() throws {
        let x = Tensor(shape: [2, 3], floats: [1, 2, 3, 1000, 1000, 1000])
        let softmax = try run(.softmax(axis: -1), inputs: [x])[0]
        #expect(abs(softmax.floats![2] - 0.66524096) < 1e-6)
        #expect(softmax.floats![3...].allSatisfy { abs($0 - 1.0 / 3) < 1e-6 })
        var random = SeededGenerator(seed: 6)
        let y = random.tensor([2, 3, 4])
        let mean = try run(.reduceMean(axes: [0, 2], keepDims: true, noopWithEmptyAxes: false), inputs: [y])[0]
        #expect(mean.shape == [1, 3, 1])
        var sum: Float = 0
        for i in 0..<2 { for k in 0..<4 { sum += y[[i, 1, k]] } }
        #expect(abs(mean.floats![1] - sum / 8) < 1e-6)
    }

    @Test func batchNormalizationPerChannel() throws {
        let x = Tensor(shape: [1, 2, 1, 2], floats: [1, 2, 3, 4])
        let scale = Tensor(shape: [2], floats: [1, 2])
        let bias = Tensor(shape: [2], floats: [0, 1])
        let mean = Tensor(shape: [2], floats: [1, 3])
        let variance = Tensor(shape: [2], floats: [4, 1])
        let got = try run(.batchNormalization(epsilon: 0, layout: .nchw), inputs: [x, scale, bias, mean, variance])[0]
        #expect(got.floats! == [0, 0.5, 1, 3])
    }

    /// Buffers of dead values are reused: a chain of ten ops needs far fewer than ten buffers.
    @Test func plannerReusesDeadBuffers() throws {
        var graph = Graph()
        let input = graph.addValue(named: "x")
        graph.inputs = [.init(name: "x", value: input, elementType: .float32, shape: [1024])]
        var last = input
        for index in 0..<10 {
            let next = graph.addValue(named: "v\(index)")
            graph.nodes.append(.init(name: "n\(index)", op: .unary(.relu), inputs: [last], outputs: [next]))
            last = next
        }
        graph.outputs = [.init(name: "y", value: last)]
        let plan = try Planner.makePlan(graph: graph, inputShapes: [input: [1024]], staticInputs: [:])
        #expect(plan.arena.count <= 4 * 1024)
    }
}
