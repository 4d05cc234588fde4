/// A dense, row-major tensor with value semantics.
public struct Tensor: Sendable, Hashable, CustomStringConvertible {
    /// The elements, in row-major order.
    public enum Storage: Sendable, Hashable {
        case float32([Float])
        case int32([Int32])
        case int64([Int64])
        case bool([Bool])
    }

    /// The dimensions; `[]` is a scalar.
    public let shape: [Int]
    public let storage: Storage

    private init(checkedShape shape: [Int], storage: Storage, count: Int) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        precondition(count == shape.elementCount, "\(count) elements for shape \(shape)")
        self.shape = shape
        self.storage = storage
    }

    public init(shape: [Int], floats: [Float]) {
        self.init(checkedShape: shape, storage: .float32(floats), count: floats.count)
    }

    public init(shape: [Int], int32s: [Int32]) {
        self.init(checkedShape: shape, storage: .int32(int32s), count: int32s.count)
    }

    public init(shape: [Int], int64s: [Int64]) {
        self.init(checkedShape: shape, storage: .int64(int64s), count: int64s.count)
    }

    public init(shape: [Int], bools: [Bool]) {
        self.init(checkedShape: shape, storage: .bool(bools), count: bools.count)
    }

    /// A float32 scalar.
    public init(scalar: Float) {
        self.init(shape: [], floats: [scalar])
    }

    public var elementType: ElementType {
        switch storage {
        case .float32: .float32
        case .int32: .int32
        case .int64: .int64
        case .bool: .bool
        }
    }

    public var elementCount: Int { shape.elementCount }

    /// The elements if this is a float32 tensor.
    public var floats: [Float]? {
        if case .float32(let values) = storage { values } else { nil }
    }

    /// The elements as integers, for the integer types (shapes, axes, paddings).
    public var integers: [Int]? {
        switch storage {
        case .int32(let values): values.map(Int.init)
        case .int64(let values): values.map(Int.init)
        case .float32, .bool: nil
        }
    }

    /// The elements widened to Double, whatever the type (for printing and comparing).
    public var doubles: [Double] {
        switch storage {
        case .float32(let values): values.map(Double.init)
        case .int32(let values): values.map(Double.init)
        case .int64(let values): values.map(Double.init)
        case .bool(let values): values.map { $0 ? 1 : 0 }
        }
    }

    /// The same elements with another shape of the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(newShape.elementCount == elementCount, "cannot reshape \(shape) to \(newShape)")
        return Tensor(checkedShape: newShape, storage: storage, count: elementCount)
    }

    public var description: String { "Tensor<\(elementType)>\(shape)" }
}
