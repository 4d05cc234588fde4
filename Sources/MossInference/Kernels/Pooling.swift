/// Max and average pooling over one or two spatial axes, in either layout.
enum Pooling {
    static func kernel(
        _ pool: Operator.Pool,
        x: UnsafePointer<Float>,
        xShape: [Int],
        out: UnsafeMutablePointer<Float>,
        outShape: [Int]
    ) throws(ShapeInference.Failure) -> Kernel {
        let rank = xShape.count
        guard rank == 3 || rank == 4 else {
            throw .init(message: "pooling over \(rank - 2) spatial axes is not supported")
        }
        let nchw = pool.layout == .nchw
        let batch = xShape[0]
        let channels = nchw ? xShape[1] : xShape[rank - 1]
        var spatial = nchw ? Array(xShape[2...]) : Array(xShape[1..<(rank - 1)])
        var window = pool.window
        if spatial.count == 1 {
            // One spatial axis is two with a height of 1.
            spatial.insert(1, at: 0)
            window.kernel.insert(1, at: 0)
            window.strides.insert(1, at: 0)
            window.dilations.insert(1, at: 0)
            if case .explicit(let pads) = window.padding { window.padding = .explicit([0, pads[0], 0, pads[1]]) }
        }
        let (outSpatial, pads) = try ShapeInference.windowOutput(spatial: spatial, window: window)
        let (height, width) = (spatial[0], spatial[1])
        let (outHeight, outWidth) = (outSpatial[0], outSpatial[1])
        // Element strides of (batch, channel, row, column) in the input and the output.
        let inStrides =
            nchw
            ? (channels * height * width, height * width, width, 1)
            : (height * width * channels, 1, width * channels, channels)
        let outStrides =
            nchw
            ? (channels * outHeight * outWidth, outHeight * outWidth, outWidth, 1)
            : (outHeight * outWidth * channels, 1, outWidth * channels, channels)
        let (kernelHeight, kernelWidth) = (window.kernel[0], window.kernel[1])
        let (strideHeight, strideWidth) = (window.strides[0], window.strides[1])
        let (dilationHeight, dilationWidth) = (window.dilations[0], window.dilations[1])
        let (padTop, padLeft) = (pads[0].0, pads[1].0)
        let (padBottom, padRight) = (pads[0].1, pads[1].1)
        let isMax = pool.kind == .max
        let countIncludePad = pool.countIncludePad
        _ = outShape
        return {
            for n in 0..<batch {
                for oh in 0..<outHeight {
                    for ow in 0..<outWidth {
                        let top = oh * strideHeight - padTop
                        let left = ow * strideWidth - padLeft
                        var valid = 0
                        var padded = 0
                        for kh in 0..<kernelHeight {
                            let ih = top + kh * dilationHeight
                            guard ih >= -padTop && ih < height + padBottom else { continue }
                            for kw in 0..<kernelWidth {
                                let iw = left + kw * dilationWidth
                                guard iw >= -padLeft && iw < width + padRight else { continue }
                                padded += 1
                                if ih >= 0 && ih < height && iw >= 0 && iw < width { valid += 1 }
                            }
                        }
                        let divisor = Float(Swift.max(countIncludePad ? padded : valid, 1))
                        for c in 0..<channels {
                            var accumulator: Float = isMax ? -.infinity : 0
                            for kh in 0..<kernelHeight {
                                let ih = top + kh * dilationHeight
                                guard ih >= 0 && ih < height else { continue }
                                for kw in 0..<kernelWidth {
                                    let iw = left + kw * dilationWidth
                                    guard iw >= 0 && iw < width else { continue }
                                    let v = x[n * inStrides.0 + c * inStrides.1 + ih * inStrides.2 + iw * inStrides.3]
                                    accumulator = isMax ? Swift.max(accumulator, v) : accumulator + v
                                }
                            }
                            out[n * outStrides.0 + c * outStrides.1 + oh * outStrides.2 + ow * outStrides.3] =
                                isMax ? accumulator : accumulator / divisor
                        }
                    }
                }
            }
        }
    }
}
