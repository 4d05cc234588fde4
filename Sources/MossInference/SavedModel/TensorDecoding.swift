/// Turns TensorFlow's stored tensors (bundle bytes, TensorProto) into ``Tensor``s.
enum TensorDecoding {
    static func elementType(_ dtype: Tensorflow_DataType) -> ElementType? {
        switch dtype {
        case .dtFloat: .float32
        case .dtInt32: .int32
        case .dtInt64: .int64
        case .dtBool: .bool
        default: nil
        }
    }

    static func tensor(
        dtype: Tensorflow_DataType,
        shape: [Int],
        littleEndian bytes: [UInt8]
    ) throws(InferenceError) -> Tensor {
        guard let type = elementType(dtype) else {
            throw InferenceError(.unsupportedOperator, "element type \(dtype) is not supported")
        }
        let count = shape.elementCount
        let width = type == .bool ? 1 : (type == .int64 ? 8 : 4)
        guard bytes.count == count * width else {
            throw InferenceError(.invalidModel, "\(bytes.count) bytes for \(count) elements of \(type)")
        }
        return bytes.withUnsafeBytes { raw in
            switch type {
            case .float32:
                Tensor(
                    shape: shape,
                    floats: (0..<count).map {
                        Float(
                            bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))
                        )
                    }
                )
            case .int32:
                Tensor(
                    shape: shape,
                    int32s: (0..<count).map {
                        Int32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self))
                    }
                )
            case .int64:
                Tensor(
                    shape: shape,
                    int64s: (0..<count).map {
                        Int64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self))
                    }
                )
            case .bool:
                Tensor(shape: shape, bools: (0..<count).map { raw[$0] != 0 })
            }
        }
    }

    /// A TensorProto: packed `tensor_content`, or the typed value lists, where a short list repeats its last value.
    static func tensor(_ proto: Tensorflow_TensorProto) throws(InferenceError) -> Tensor {
        let shape = proto.tensorShape.dim.map { Int($0.size) }
        if !proto.tensorContent.isEmpty {
            return try tensor(dtype: proto.dtype, shape: shape, littleEndian: Array(proto.tensorContent))
        }
        let count = shape.elementCount
        func filled<T>(_ values: [T], zero: T) throws(InferenceError) -> [T] {
            if values.count == count { return values }
            guard values.count < count else {
                throw InferenceError(.invalidModel, "\(values.count) values for shape \(shape)")
            }
            return values + Array(repeating: values.last ?? zero, count: count - values.count)
        }
        switch proto.dtype {
        case .dtFloat: return Tensor(shape: shape, floats: try filled(proto.floatVal, zero: 0))
        case .dtInt32: return Tensor(shape: shape, int32s: try filled(proto.intVal, zero: 0))
        case .dtInt64: return Tensor(shape: shape, int64s: try filled(proto.int64Val, zero: 0))
        case .dtBool: return Tensor(shape: shape, bools: try filled(proto.boolVal, zero: false))
        default: throw InferenceError(.unsupportedOperator, "constant of element type \(proto.dtype) is not supported")
        }
    }
}
