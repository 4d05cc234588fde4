/// Batch normalisation in inference mode: y = (x − mean) / √(variance + ε) · scale + bias, per channel.
enum Normalization {
    static func batchNorm(
        x: UnsafePointer<Float>,
        scale: UnsafePointer<Float>,
        bias: UnsafePointer<Float>,
        mean: UnsafePointer<Float>,
        variance: UnsafePointer<Float>,
        epsilon: Float,
        layout: Operator.Layout,
        shape: [Int],
        out: UnsafeMutablePointer<Float>,
        scratch: UnsafeMutablePointer<Float>
    ) -> Kernel {
        let channelAxis = layout == .nchw ? Swift.min(1, shape.count - 1) : shape.count - 1
        let channels = shape.isEmpty ? 1 : shape[channelAxis]
        let outer = shape.product(0..<channelAxis)
        let inner = shape.product((channelAxis + 1)..<shape.count)
        let multiplier = scratch
        let offset = scratch + channels
        return {
            // The operands may be inputs, so fold them per run; it costs one pass over the channels.
            for c in 0..<channels {
                multiplier[c] = scale[c] / (variance[c] + epsilon).squareRoot()
                offset[c] = bias[c] - mean[c] * multiplier[c]
            }
            for o in 0..<outer {
                if inner == 1 {
                    let source = x + o * channels
                    let target = out + o * channels
                    for c in 0..<channels { target[c] = source[c] * multiplier[c] + offset[c] }
                } else {
                    for c in 0..<channels {
                        let source = x + (o * channels + c) * inner
                        let target = out + (o * channels + c) * inner
                        let m = multiplier[c]
                        let b = offset[c]
                        for i in 0..<inner { target[i] = source[i] * m + b }
                    }
                }
            }
        }
    }
}
