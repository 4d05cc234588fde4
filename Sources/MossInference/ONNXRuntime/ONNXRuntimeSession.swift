import SwiftProtobuf

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One model opened in ONNX Runtime. Input and output names come from the model file (read with Moss's own ONNX
/// protos); inputs are passed as float32 tensors wrapping Moss's buffers, outputs are copied out.
public final class ONNXRuntimeSession {
    private let runtime: ONNXRuntime
    private let environment: OpaquePointer
    private let options: OpaquePointer
    private let session: OpaquePointer
    private let memoryInfo: OpaquePointer
    public let inputNames: [String]
    public let outputNames: [String]

    init(runtime: ONNXRuntime, modelPath: String, threads: Int) throws(InferenceError) {
        self.runtime = runtime
        let model: Onnx_ModelProto
        do {
            model = try Onnx_ModelProto(serializedBytes: try TensorBundle.read(modelPath))
        } catch let error as InferenceError {
            throw error
        } catch {
            throw InferenceError(.invalidModel, "\(modelPath): not an ONNX model (\(error))")
        }
        let initializers = Set(model.graph.initializer.map(\.name))
        inputNames = model.graph.input.map(\.name).filter { !initializers.contains($0) }
        outputNames = model.graph.output.map(\.name)

        var environment: OpaquePointer?
        try runtime.check(runtime.createEnv(3, "moss", &environment), "CreateEnv")  // 3: errors only
        var options: OpaquePointer?
        do {
            try runtime.check(runtime.createSessionOptions(&options), "CreateSessionOptions")
            try runtime.check(runtime.setIntraOpNumThreads(options!, Int32(threads)), "SetIntraOpNumThreads")
            var session: OpaquePointer?
            try runtime.check(
                runtime.createSession(environment!, modelPath, options!, &session),
                "CreateSession(\(modelPath))"
            )
            var memoryInfo: OpaquePointer?
            // OrtArenaAllocator (1), OrtMemTypeDefault (0).
            try runtime.check(runtime.createCpuMemoryInfo(1, 0, &memoryInfo), "CreateCpuMemoryInfo")
            self.environment = environment!
            self.options = options!
            self.session = session!
            self.memoryInfo = memoryInfo!
        } catch {
            runtime.releaseSessionOptions(options)
            runtime.releaseEnv(environment)
            throw error
        }
    }

    deinit {
        runtime.releaseMemoryInfo(memoryInfo)
        runtime.releaseSession(session)
        runtime.releaseSessionOptions(options)
        runtime.releaseEnv(environment)
    }

    /// Runs the model on float32 inputs by name and returns every output.
    public func run(_ inputs: [String: Tensor]) throws(InferenceError) -> [String: Tensor] {
        for name in inputs.keys where !inputNames.contains(name) {
            throw InferenceError(
                .invalidInput,
                "unknown input '\(name)'; the model's inputs are \(inputNames.joined(separator: ", "))"
            )
        }
        var storage: [[Float]] = []
        var shapes: [[Int64]] = []
        for name in inputNames {
            guard let tensor = inputs[name] else { throw InferenceError(.invalidInput, "missing input '\(name)'") }
            guard let floats = tensor.floats else {
                throw InferenceError(.invalidInput, "input '\(name)' must be float32")
            }
            storage.append(floats)
            shapes.append(tensor.shape.map(Int64.init))
        }
        var values: [OpaquePointer?] = []
        var outputs = [OpaquePointer?](repeating: nil, count: outputNames.count)
        defer {
            for value in values { runtime.releaseValue(value) }
            for value in outputs { runtime.releaseValue(value) }
        }
        for index in storage.indices {
            var value: OpaquePointer?
            let status = storage[index].withUnsafeMutableBytes { bytes in
                shapes[index].withUnsafeBufferPointer { shape in
                    runtime.createTensorWithData(
                        memoryInfo,
                        bytes.baseAddress!,
                        bytes.count,
                        shape.baseAddress!,
                        shape.count,
                        1,
                        &value
                    )
                }
            }
            try runtime.check(status, "CreateTensorWithDataAsOrtValue(\(inputNames[index]))")
            values.append(value)
        }
        let inputNamePointers = inputNames.map { strdup($0) }
        let outputNamePointers = outputNames.map { strdup($0) }
        defer {
            for pointer in inputNamePointers + outputNamePointers { free(pointer) }
        }
        let inputNameArray: [UnsafePointer<CChar>?] = inputNamePointers.map { $0.map { UnsafePointer($0) } }
        let outputNameArray: [UnsafePointer<CChar>?] = outputNamePointers.map { $0.map { UnsafePointer($0) } }
        let status = inputNameArray.withUnsafeBufferPointer { inputNameBuffer in
            outputNameArray.withUnsafeBufferPointer { outputNameBuffer in
                values.withUnsafeBufferPointer { valueBuffer in
                    runtime.run(
                        session,
                        nil,
                        inputNameBuffer.baseAddress!,
                        valueBuffer.baseAddress!,
                        values.count,
                        outputNameBuffer.baseAddress!,
                        outputNames.count,
                        &outputs
                    )
                }
            }
        }
        try runtime.check(status, "Run")
        var results: [String: Tensor] = [:]
        for (name, value) in zip(outputNames, outputs) {
            guard let value else { throw InferenceError(.backendUnavailable, "ONNX Runtime returned no '\(name)'") }
            results[name] = try copyOut(value, name: name)
        }
        return results
    }

    private func copyOut(_ value: OpaquePointer, name: String) throws(InferenceError) -> Tensor {
        var info: OpaquePointer?
        try runtime.check(runtime.getTensorTypeAndShape(value, &info), "GetTensorTypeAndShape(\(name))")
        defer { runtime.releaseTensorTypeAndShapeInfo(info) }
        var type: Int32 = 0
        try runtime.check(runtime.getTensorElementType(info!, &type), "GetTensorElementType(\(name))")
        guard type == 1 else {
            throw InferenceError(
                .unsupportedOperator,
                "output '\(name)' has ONNX element type \(type); only float32 is supported"
            )
        }
        var rank = 0
        try runtime.check(runtime.getDimensionsCount(info!, &rank), "GetDimensionsCount(\(name))")
        var dimensions = [Int64](repeating: 0, count: rank)
        try runtime.check(runtime.getDimensions(info!, &dimensions, rank), "GetDimensions(\(name))")
        let shape = dimensions.map { Int($0) }
        var data: UnsafeMutableRawPointer?
        try runtime.check(runtime.getTensorMutableData(value, &data), "GetTensorMutableData(\(name))")
        let count = shape.elementCount
        let floats =
            data.map { Array(UnsafeBufferPointer(start: $0.assumingMemoryBound(to: Float.self), count: count)) } ?? []
        return Tensor(shape: shape, floats: floats)
    }
}
