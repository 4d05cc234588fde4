import CMossInferenceKernels

/// 2-D convolution: depthwise layers run directly, the others as matrix products (a 1×1 convolution is one already;
/// larger kernels go through im2col into the plan's scratch space).
enum Convolution {
    /// The dimensions of one convolution, resolved from the shapes.
    private struct Geometry {
        var batch, channels, height, width: Int
        var outChannels, outHeight, outWidth: Int
        var kernelHeight, kernelWidth: Int
        var strideHeight, strideWidth, dilationHeight, dilationWidth: Int
        var padTop, padLeft: Int
        var group: Int
        var multiplier: Int

        var isPointwise: Bool {
            kernelHeight == 1 && kernelWidth == 1 && strideHeight == 1 && strideWidth == 1 && padTop == 0
                && padLeft == 0
                && outHeight == height && outWidth == width
        }
    }

    private static func geometry(_ conv: Operator.Convolution, x: [Int], filter: [Int], output: [Int]) -> Geometry {
        let nchw = conv.layout == .nchw
        let (channels, height, width) = nchw ? (x[1], x[2], x[3]) : (x[3], x[1], x[2])
        let (outChannels, outHeight, outWidth) =
            nchw ? (output[1], output[2], output[3]) : (output[3], output[1], output[2])
        let (kernelHeight, kernelWidth) = conv.filterLayout == .oihw ? (filter[2], filter[3]) : (filter[0], filter[1])
        let window = Operator.Window(
            kernel: [kernelHeight, kernelWidth],
            strides: conv.strides,
            dilations: conv.dilations,
            padding: conv.padding
        )
        let pads =
            (try? ShapeInference.windowOutput(spatial: [height, width], window: window))?.pads ?? [(0, 0), (0, 0)]
        let group = conv.filterLayout == .hwim ? channels : conv.group
        return Geometry(
            batch: x[0],
            channels: channels,
            height: height,
            width: width,
            outChannels: outChannels,
            outHeight: outHeight,
            outWidth: outWidth,
            kernelHeight: kernelHeight,
            kernelWidth: kernelWidth,
            strideHeight: conv.strides[0],
            strideWidth: conv.strides[1],
            dilationHeight: conv.dilations[0],
            dilationWidth: conv.dilations[1],
            padTop: pads[0].0,
            padLeft: pads[1].0,
            group: group,
            multiplier: outChannels / Swift.max(group, 1)
        )
    }

    private static func isDepthwise(_ conv: Operator.Convolution, _ g: Geometry) -> Bool {
        conv.filterLayout == .hwim || (g.group == g.channels && g.outChannels == g.channels && g.group > 1)
    }

    static func scratchCount(_ conv: Operator.Convolution, x: [Int], filter: [Int], output: [Int]) -> Int {
        let g = geometry(conv, x: x, filter: filter, output: output)
        if isDepthwise(conv, g) {
            guard conv.layout == .nchw, g.multiplier == 1 else { return 0 }
            var geometry = cGeometry(g)
            return moss_depthwise_nchw_scratch(&geometry)
        }
        let depth = g.channels / g.group * g.kernelHeight * g.kernelWidth
        // The packed C kernel's panel of the columns (NCHW, one group).
        let panel = conv.layout == .nchw && g.group == 1 ? moss_pointwise_nchw_scratch(Int32(depth)) : 0
        if g.isPointwise { return panel }
        return depth * g.outHeight * g.outWidth + panel
    }

    static func kernel(
        _ conv: Operator.Convolution,
        x: UnsafePointer<Float>,
        xShape: [Int],
        filter: UnsafePointer<Float>,
        filterShape: [Int],
        bias: UnsafePointer<Float>?,
        out: UnsafeMutablePointer<Float>,
        outShape: [Int],
        scratch: UnsafeMutablePointer<Float>?,
        constantWeights: Bool = false
    ) -> Kernel {
        let g = geometry(conv, x: xShape, filter: filterShape, output: outShape)
        let low = conv.clamp?.lowerBound ?? -.infinity
        let high = conv.clamp?.upperBound ?? .infinity
        // The C kernels apply the clamp before they store: no separate pass.
        if isDepthwise(conv, g), g.multiplier == 1 {
            return depthwiseC(
                g,
                layout: conv.layout,
                x: x,
                filter: filter,
                bias: bias,
                out: out,
                scratch: scratch,
                low: low,
                high: high
            )
        }
        if g.group == 1, constantWeights, moss_pointwise_available() != 0,
            let kernel = pointwise(conv, g, x: x, filter: filter, bias: bias, out: out, scratch: scratch, low: low, high: high)
        {
            return kernel
        }
        let compute = unclamped(
            conv,
            x: x,
            xShape: xShape,
            filter: filter,
            filterShape: filterShape,
            bias: bias,
            out: out,
            outShape: outShape,
            scratch: scratch
        )
        guard let clamp = conv.clamp else { return compute }
        let count = outShape.elementCount
        return {
            compute()
            moss_clip(out, out, count, clamp.lowerBound, clamp.upperBound)
        }
    }

    private static func unclamped(
        _ conv: Operator.Convolution,
        x: UnsafePointer<Float>,
        xShape: [Int],
        filter: UnsafePointer<Float>,
        filterShape: [Int],
        bias: UnsafePointer<Float>?,
        out: UnsafeMutablePointer<Float>,
        outShape: [Int],
        scratch: UnsafeMutablePointer<Float>?
    ) -> Kernel {
        let g = geometry(conv, x: xShape, filter: filterShape, output: outShape)
        switch (conv.layout, isDepthwise(conv, g)) {
        case (.nchw, true): return depthwiseNCHW(g, x: x, filter: filter, bias: bias, out: out)
        case (.nhwc, true): return depthwiseNHWC(g, x: x, filter: filter, bias: bias, out: out)
        case (.nchw, false): return gemmNCHW(g, x: x, filter: filter, bias: bias, out: out, scratch: scratch)
        case (.nhwc, false): return gemmNHWC(g, x: x, filter: filter, bias: bias, out: out, scratch: scratch)
        }
    }

    /// The range of output columns whose input column `ow·stride − pad + offset` lies inside `0..<size`.
    @inline(__always) private static func validRange(count: Int, stride: Int, shift: Int, size: Int) -> Range<Int> {
        // Input index = o * stride + shift.
        let first = shift >= 0 ? 0 : (-shift + stride - 1) / stride
        let last = size - 1 - shift < 0 ? -1 : (size - 1 - shift) / stride
        let end = Swift.min(count, last + 1)
        return first < end ? first..<end : 0..<0
    }

    /// Depthwise with a multiplier of 1 (MobileNet's case) in the C kernels, vectorised for the CPU at hand.
    private static func cGeometry(_ g: Geometry) -> MossDepthwiseGeometry {
        MossDepthwiseGeometry(
            channels: Int32(g.channels),
            height: Int32(g.height),
            width: Int32(g.width),
            outHeight: Int32(g.outHeight),
            outWidth: Int32(g.outWidth),
            kernelHeight: Int32(g.kernelHeight),
            kernelWidth: Int32(g.kernelWidth),
            strideHeight: Int32(g.strideHeight),
            strideWidth: Int32(g.strideWidth),
            dilationHeight: Int32(g.dilationHeight),
            dilationWidth: Int32(g.dilationWidth),
            padTop: Int32(g.padTop),
            padLeft: Int32(g.padLeft)
        )
    }

    private static func depthwiseC(
        _ g: Geometry,
        layout: Operator.Layout,
        x: UnsafePointer<Float>,
        filter: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?,
        out: UnsafeMutablePointer<Float>,
        scratch: UnsafeMutablePointer<Float>?,
        low: Float,
        high: Float
    ) -> Kernel {
        var geometry = cGeometry(g)
        let image = g.channels * g.height * g.width
        let outImage = g.channels * g.outHeight * g.outWidth
        return {
            for n in 0..<g.batch {
                if layout == .nchw {
                    moss_depthwise_nchw(&geometry, x + n * image, filter, bias, out + n * outImage, scratch, low, high)
                } else {
                    moss_depthwise_nhwc(&geometry, x + n * image, filter, bias, out + n * outImage, low, high)
                }
            }
        }
    }

    /// A convolution of one group with constant weights as a matrix product in the C micro-kernels (a 1×1
    /// convolution reads its input directly, others go through im2col): the weights repacked once into the panels
    /// the kernel streams, the bias added in registers, the clamp applied before the store. Nil when the layouts
    /// are not the two the loaders produce (NCHW/OIHW, NHWC/HWIO).
    private static func pointwise(
        _ conv: Operator.Convolution,
        _ g: Geometry,
        x: UnsafePointer<Float>,
        filter: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?,
        out: UnsafeMutablePointer<Float>,
        scratch: UnsafeMutablePointer<Float>?,
        low: Float,
        high: Float
    ) -> Kernel? {
        let depth = g.channels * g.kernelHeight * g.kernelWidth
        let k = Int32(depth)
        let m = Int32(g.outChannels)
        let pixels = g.outHeight * g.outWidth
        let image = g.channels * g.height * g.width
        let outImage = g.outChannels * pixels
        let direct = g.isPointwise
        guard direct || scratch != nil else { return nil }
        switch (conv.layout, conv.filterLayout) {
        case (.nchw, .oihw):
            guard let scratch else { return nil }
            let packed = PackedWeights(count: moss_pointwise_nchw_packed_count(m, k))
            moss_pointwise_nchw_pack(filter, m, k, packed.base)
            let panel = direct ? scratch : scratch + depth * pixels
            return {
                for n in 0..<g.batch {
                    let source: UnsafePointer<Float>
                    if direct {
                        source = x + n * image
                    } else {
                        im2colNCHW(g, source: x + n * image, columns: scratch)
                        source = UnsafePointer(scratch)
                    }
                    moss_pointwise_nchw(
                        packed.base,
                        bias,
                        source,
                        out + n * outImage,
                        m,
                        k,
                        Int32(pixels),
                        low,
                        high,
                        panel
                    )
                }
            }
        case (.nhwc, .hwio):
            let packed = PackedWeights(count: moss_pointwise_nhwc_packed_count(k, m))
            moss_pointwise_nhwc_pack(filter, bias, k, m, packed.base)
            if direct {
                let rows = Int32(g.batch * pixels)
                return { moss_pointwise_nhwc(packed.base, x, out, rows, k, m, low, high) }
            }
            let columns = scratch!
            return {
                for n in 0..<g.batch {
                    im2colNHWC(g, source: x + n * image, columns: columns)
                    moss_pointwise_nhwc(packed.base, columns, out + n * outImage, Int32(pixels), k, m, low, high)
                }
            }
        default:
            return nil
        }
    }

    /// The im2col matrix of one NCHW image (one group of `g.channels / g.group` channels): [c·kh·kw][pixels].
    private static func im2colNCHW(_ g: Geometry, source: UnsafePointer<Float>, columns col: UnsafeMutablePointer<Float>) {
        let groupChannels = g.channels / g.group
        let pixels = g.outHeight * g.outWidth
        let plane = g.height * g.width
        for c in 0..<groupChannels {
            for kh in 0..<g.kernelHeight {
                let rows = validRange(
                    count: g.outHeight,
                    stride: g.strideHeight,
                    shift: kh * g.dilationHeight - g.padTop,
                    size: g.height
                )
                for kw in 0..<g.kernelWidth {
                    let shift = kw * g.dilationWidth - g.padLeft
                    let valid = validRange(count: g.outWidth, stride: g.strideWidth, shift: shift, size: g.width)
                    let row = col + ((c * g.kernelHeight + kh) * g.kernelWidth + kw) * pixels
                    row.update(repeating: 0, count: pixels)
                    for oh in rows {
                        let sourceRow =
                            source + c * plane + (oh * g.strideHeight + kh * g.dilationHeight - g.padTop) * g.width
                            + shift
                        let targetRow = row + oh * g.outWidth
                        for ow in valid { targetRow[ow] = sourceRow[ow * g.strideWidth] }
                    }
                }
            }
        }
    }

    /// The im2col matrix of one NHWC image: [pixels][kh·kw·c].
    private static func im2colNHWC(_ g: Geometry, source x: UnsafePointer<Float>, columns col: UnsafeMutablePointer<Float>) {
        let depth = g.kernelHeight * g.kernelWidth * g.channels
        for oh in 0..<g.outHeight {
            for ow in 0..<g.outWidth {
                var target = col + (oh * g.outWidth + ow) * depth
                for kh in 0..<g.kernelHeight {
                    let ih = oh * g.strideHeight + kh * g.dilationHeight - g.padTop
                    for kw in 0..<g.kernelWidth {
                        let iw = ow * g.strideWidth + kw * g.dilationWidth - g.padLeft
                        if ih >= 0 && ih < g.height && iw >= 0 && iw < g.width {
                            target.update(from: x + (ih * g.width + iw) * g.channels, count: g.channels)
                        } else {
                            target.update(repeating: 0, count: g.channels)
                        }
                        target += g.channels
                    }
                }
            }
        }
    }

    private static func depthwiseNCHW(
        _ g: Geometry,
        x: UnsafePointer<Float>,
        filter: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?,
        out: UnsafeMutablePointer<Float>
    ) -> Kernel {
        {
            let plane = g.height * g.width
            let outPlane = g.outHeight * g.outWidth
            for n in 0..<g.batch {
                for c in 0..<g.channels {
                    let source = x + (n * g.channels + c) * plane
                    let target = out + (n * g.channels + c) * outPlane
                    target.update(repeating: bias?[c] ?? 0, count: outPlane)
                    for kh in 0..<g.kernelHeight {
                        let rows = validRange(
                            count: g.outHeight,
                            stride: g.strideHeight,
                            shift: kh * g.dilationHeight - g.padTop,
                            size: g.height
                        )
                        for kw in 0..<g.kernelWidth {
                            let weight = filter[(c * g.kernelHeight + kh) * g.kernelWidth + kw]
                            let shift = kw * g.dilationWidth - g.padLeft
                            let columns = validRange(
                                count: g.outWidth,
                                stride: g.strideWidth,
                                shift: shift,
                                size: g.width
                            )
                            for oh in rows {
                                let sourceRow =
                                    source + (oh * g.strideHeight + kh * g.dilationHeight - g.padTop) * g.width + shift
                                let targetRow = target + oh * g.outWidth
                                if g.strideWidth == 1 {
                                    for ow in columns { targetRow[ow] += weight * sourceRow[ow] }
                                } else {
                                    for ow in columns { targetRow[ow] += weight * sourceRow[ow * g.strideWidth] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private static func depthwiseNHWC(
        _ g: Geometry,
        x: UnsafePointer<Float>,
        filter: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?,
        out: UnsafeMutablePointer<Float>
    ) -> Kernel {
        {
            let m = g.multiplier
            for n in 0..<g.batch {
                for oh in 0..<g.outHeight {
                    for ow in 0..<g.outWidth {
                        let target = out + ((n * g.outHeight + oh) * g.outWidth + ow) * g.outChannels
                        if let bias {
                            target.update(from: bias, count: g.outChannels)
                        } else {
                            target.update(repeating: 0, count: g.outChannels)
                        }
                        for kh in 0..<g.kernelHeight {
                            let ih = oh * g.strideHeight + kh * g.dilationHeight - g.padTop
                            guard ih >= 0 && ih < g.height else { continue }
                            for kw in 0..<g.kernelWidth {
                                let iw = ow * g.strideWidth + kw * g.dilationWidth - g.padLeft
                                guard iw >= 0 && iw < g.width else { continue }
                                let source = x + ((n * g.height + ih) * g.width + iw) * g.channels
                                let weights = filter + (kh * g.kernelWidth + kw) * g.outChannels
                                if m == 1 {
                                    for c in 0..<g.channels { target[c] += source[c] * weights[c] }
                                } else {
                                    for c in 0..<g.channels {
                                        for k in 0..<m { target[c * m + k] += source[c] * weights[c * m + k] }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private static func gemmNCHW(
        _ g: Geometry,
        x: UnsafePointer<Float>,
        filter: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?,
        out: UnsafeMutablePointer<Float>,
        scratch: UnsafeMutablePointer<Float>?
    ) -> Kernel {
        {
            let groupChannels = g.channels / g.group
            let groupOut = g.outChannels / g.group
            let depth = groupChannels * g.kernelHeight * g.kernelWidth
            let pixels = g.outHeight * g.outWidth
            let plane = g.height * g.width
            for n in 0..<g.batch {
                let target = out + n * g.outChannels * pixels
                for c in 0..<g.outChannels { (target + c * pixels).update(repeating: bias?[c] ?? 0, count: pixels) }
                for group in 0..<g.group {
                    let source = x + (n * g.channels + group * groupChannels) * plane
                    let columns: UnsafePointer<Float>
                    if g.isPointwise {
                        columns = source
                    } else {
                        let col = scratch!
                        im2colNCHW(g, source: source, columns: col)
                        columns = UnsafePointer(col)
                    }
                    MatrixProduct.sgemm(
                        transposeA: false,
                        transposeB: false,
                        m: groupOut,
                        n: pixels,
                        k: depth,
                        alpha: 1,
                        a: filter + group * groupOut * depth,
                        lda: depth,
                        b: columns,
                        ldb: pixels,
                        beta: 1,
                        c: target + group * groupOut * pixels,
                        ldc: pixels
                    )
                }
            }
        }
    }

    private static func gemmNHWC(
        _ g: Geometry,
        x: UnsafePointer<Float>,
        filter: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?,
        out: UnsafeMutablePointer<Float>,
        scratch: UnsafeMutablePointer<Float>?
    ) -> Kernel {
        {
            let depth = g.kernelHeight * g.kernelWidth * g.channels
            let pixels = g.outHeight * g.outWidth
            let rows = g.isPointwise ? g.batch * pixels : pixels
            for row in 0..<(g.batch * pixels) {
                let target = out + row * g.outChannels
                if let bias {
                    target.update(from: bias, count: g.outChannels)
                } else {
                    target.update(repeating: 0, count: g.outChannels)
                }
            }
            for n in 0..<(g.isPointwise ? 1 : g.batch) {
                let columns: UnsafePointer<Float>
                if g.isPointwise {
                    columns = x
                } else {
                    let col = scratch!
                    im2colNHWC(g, source: x + n * g.height * g.width * g.channels, columns: col)
                    columns = UnsafePointer(col)
                }
                MatrixProduct.sgemm(
                    transposeA: false,
                    transposeB: false,
                    m: rows,
                    n: g.outChannels,
                    k: depth,
                    alpha: 1,
                    a: columns,
                    lda: depth,
                    b: filter,
                    ldb: g.outChannels,
                    beta: 1,
                    c: out + n * pixels * g.outChannels,
                    ldc: g.outChannels
                )
            }
        }
    }
}

/// Weights repacked for a C kernel, owned by the kernel closure that reads them.
final class PackedWeights {
    let base: UnsafeMutablePointer<Float>

    init(count: Int) {
        base = .allocate(capacity: Swift.max(count, 1))
        base.initialize(repeating: 0, count: Swift.max(count, 1))
    }

    deinit { base.deallocate() }
}
