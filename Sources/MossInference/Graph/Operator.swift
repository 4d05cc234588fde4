/// The operators of the graph IR. Both loaders lower their models to these; attributes that do not change the
/// arithmetic are resolved by the loader, and operands that determine shapes (axes, paddings, target shapes)
/// stay inputs, read when a plan is made ("static operands").
enum Operator: Sendable, Hashable {
    enum Binary: String, Sendable, Hashable { case add, sub, mul, div }
    enum Unary: String, Sendable, Hashable { case sigmoid, relu, tanh }
    enum Layout: String, Sendable, Hashable {
        /// Channels first (ONNX).
        case nchw
        /// Channels last (TensorFlow).
        case nhwc
    }
    enum PadMode: String, Sendable, Hashable { case constant, reflect, edge }
    enum PaddingsFormat: Sendable, Hashable {
        /// ONNX: `[begin_0, …, begin_n, end_0, …, end_n]`, optionally restricted to an `axes` operand.
        case beginsThenEnds
        /// TensorFlow: an `[n, 2]` matrix of (before, after) pairs.
        case pairs
    }

    /// How a convolution or pooling window is padded.
    enum Padding: Sendable, Hashable {
        /// Explicit spatial padding `[begin_0, …, begin_k, end_0, …, end_k]`.
        case explicit([Int])
        /// Pad so that output = ceil(input / stride); the odd cell goes at the end (upper) or the beginning (lower).
        case sameUpper
        case sameLower
        case valid
    }

    struct Window: Sendable, Hashable {
        var kernel: [Int]
        var strides: [Int]
        var dilations: [Int]
        var padding: Padding
        var ceilMode = false
    }

    enum FilterLayout: String, Sendable, Hashable {
        /// ONNX: `[out, in / group, kh, kw]`.
        case oihw
        /// TensorFlow Conv2D: `[kh, kw, in, out]`.
        case hwio
        /// TensorFlow DepthwiseConv2dNative: `[kh, kw, in, multiplier]`.
        case hwim
    }

    /// Inputs: x, f(ilter), optional bias. The kernel size comes from the filter.
    struct Convolution: Sendable, Hashable {
        var layout: Layout
        var filterLayout: FilterLayout
        var strides: [Int]
        var dilations: [Int]
        var padding: Padding
        var group: Int
        /// A Relu or Clip fused into the convolution by ``Graph/fuseConvolutions()``: outputs clamped to these bounds.
        var clamp: ClosedRange<Float>?

        init(
            layout: Layout,
            filterLayout: FilterLayout,
            strides: [Int],
            dilations: [Int],
            padding: Padding,
            group: Int,
            clamp: ClosedRange<Float>? = nil
        ) {
            self.layout = layout
            self.filterLayout = filterLayout
            self.strides = strides
            self.dilations = dilations
            self.padding = padding
            self.group = group
            self.clamp = clamp
        }
    }

    enum PoolKind: String, Sendable, Hashable { case max, average }

    struct Pool: Sendable, Hashable {
        var kind: PoolKind
        var layout: Layout
        var window: Window
        var countIncludePad: Bool
    }

    case identity
    case binary(Binary)
    case unary(Unary)
    /// Inputs: x, optional min, optional max (static operands).
    case clip
    /// Batched, broadcasting matrix product (NumPy `matmul` rules); TensorFlow's transposes apply to the last two axes.
    case matMul(transposeA: Bool, transposeB: Bool)
    /// Inputs: A, B, optional C (unidirectionally broadcast to the result).
    case gemm(alpha: Float, beta: Float, transposeA: Bool, transposeB: Bool)
    case softmax(axis: Int)
    case convolution(Convolution)
    /// Inputs: x, scale, bias, mean, variance; per channel on axis 1 (nchw) or the last axis (nhwc).
    case batchNormalization(epsilon: Float, layout: Layout)
    case pool(Pool)
    /// Mean over `axes`, or over the axes of static operand 1 when `axes` is nil; all axes if none are given,
    /// unless `noopWithEmptyAxes`.
    case reduceMean(axes: [Int]?, keepDims: Bool, noopWithEmptyAxes: Bool)
    /// Mean over every axis after the first two (batch, channels), keeping them as size 1 (ONNX GlobalAveragePool).
    case globalAveragePool
    /// Inputs: x, paddings (static), optional constant value (static), optional axes (static).
    case pad(mode: PadMode, format: PaddingsFormat)
    /// Inputs: x, shape (static). ONNX copies a 0 from the input shape unless `allowZero`; TensorFlow does not.
    case reshape(zeroCopiesDimension: Bool)
    /// Removes `axes`, or those of static operand 1 when nil, or every axis of size 1 if neither is given.
    case squeeze(axes: [Int]?)
    /// Inserts axes of size 1: `axes`, or those of static operand 1 when nil.
    case unsqueeze(axes: [Int]?)
    case flatten(axis: Int)
    /// Permutes axes: `perm`, or static operand 1 when nil; reverses them if neither is given.
    case transpose(perm: [Int]?)
    /// Joins inputs along `axis`; when nil, the last input is the (static) axis, as in TensorFlow's ConcatV2.
    case concat(axis: Int?)

    /// Indices of inputs that must be known when a plan is made.
    var staticOperands: Set<Int> {
        switch self {
        case .clip: [1, 2]
        case .reduceMean(let axes, _, _): axes == nil ? [1] : []
        case .pad: [1, 2, 3]
        case .reshape: [1]
        case .squeeze(let axes), .unsqueeze(let axes): axes == nil ? [1] : []
        case .transpose(let perm): perm == nil ? [1] : []
        case .concat(let axis): axis == nil ? [-1] : []
        case .identity, .binary, .unary, .matMul, .gemm, .softmax, .convolution, .batchNormalization, .pool,
            .flatten, .globalAveragePool:
            []
        }
    }

    /// Operators whose output is the input's buffer with another shape.
    var isView: Bool {
        switch self {
        case .identity, .reshape, .squeeze, .unsqueeze, .flatten: true
        default: false
        }
    }
}
