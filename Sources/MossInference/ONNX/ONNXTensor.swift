/// ONNX TensorProto decoding: `raw_data` (little-endian, what exporters write) or the typed repeated fields.
enum ONNXTensor {
    /// TensorProto.DataType numbers.
    static func elementType(_ code: Int32) -> ElementType? {
        switch code {
        case 1: .float32
        case 6: .int32
        case 7: .int64
        case 9: .bool
        default: nil
        }
    }

    static func tensor(_ proto: Onnx_TensorProto) throws(InferenceError) -> Tensor {
        guard let type = elementType(proto.dataType) else {
            throw InferenceError(.unsupportedOperator, "element type \(proto.dataType) is not supported")
        }
        guard proto.dataLocation != .external else {
            throw InferenceError(.unsupportedOperator, "tensors in external data files are not supported")
        }
        let shape = proto.dims.map { Int($0) }
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw InferenceError(.invalidModel, "negative dimension in \(shape)")
        }
        let count = shape.elementCount
        if proto.hasRawData {
            let dtype: Tensorflow_DataType =
                switch type {
                case .float32: .dtFloat
                case .int32: .dtInt32
                case .int64: .dtInt64
                case .bool: .dtBool
                }
            return try TensorDecoding.tensor(dtype: dtype, shape: shape, littleEndian: Array(proto.rawData))
        }
        func checked<T>(_ values: [T]) throws(InferenceError) -> [T] {
            guard values.count == count else {
                throw InferenceError(.invalidModel, "\(values.count) values for shape \(shape)")
            }
            return values
        }
        switch type {
        case .float32: return Tensor(shape: shape, floats: try checked(proto.floatData))
        case .int32: return Tensor(shape: shape, int32s: try checked(proto.int32Data))
        case .int64: return Tensor(shape: shape, int64s: try checked(proto.int64Data))
        case .bool: return Tensor(shape: shape, bools: try checked(proto.int32Data).map { $0 != 0 })
        }
    }
}
