import SwiftProtobuf

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The optional ONNX Runtime back end: `libonnxruntime.so` (shipped inside the onnxruntime wheel; no Debian
/// package) loaded with `dlopen` from a configured path, for ONNX models whose ops the native engine lacks.
/// Moss never needs it to build or test. The C API has no header in the wheel, so the few `OrtApi` slots used are
/// declared here by index; the struct only ever grows at the end, so the indices hold for every later release.
public struct ONNXRuntime: @unchecked Sendable {
    // The library handle and API table live as long as the process (never dlclose'd), so sharing is safe.
    private let api: UnsafePointer<UnsafeRawPointer?>
    /// The library's version string, e.g. "1.31.1".
    public let version: String
    public let libraryPath: String

    /// The `OrtApi` version requested: 13 (ONNX Runtime 1.13) has every slot used here.
    private static let apiVersion: UInt32 = 13

    /// Loads the library at `libraryPath` (a file path or a soname such as `libonnxruntime.so.1`).
    public static func load(libraryPath: String) throws(InferenceError) -> ONNXRuntime {
        guard let handle = dlopen(libraryPath, RTLD_NOW | RTLD_LOCAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "unknown error"
            throw InferenceError(.backendUnavailable, "cannot load ONNX Runtime from \(libraryPath): \(reason)")
        }
        guard let symbol = dlsym(handle, "OrtGetApiBase") else {
            throw InferenceError(.backendUnavailable, "\(libraryPath) has no OrtGetApiBase: not ONNX Runtime")
        }
        typealias GetApiBase = @convention(c) () -> UnsafePointer<UnsafeRawPointer?>?
        guard let base = unsafeBitCast(symbol, to: GetApiBase.self)() else {
            throw InferenceError(.backendUnavailable, "OrtGetApiBase returned nothing")
        }
        typealias GetApi = @convention(c) (UInt32) -> UnsafePointer<UnsafeRawPointer?>?
        typealias GetVersion = @convention(c) () -> UnsafePointer<CChar>?
        let version = unsafeBitCast(base[1], to: GetVersion.self)().map { String(cString: $0) } ?? "?"
        guard let api = unsafeBitCast(base[0], to: GetApi.self)(apiVersion) else {
            throw InferenceError(
                .backendUnavailable,
                "ONNX Runtime \(version) does not offer API version \(apiVersion)"
            )
        }
        return ONNXRuntime(api: api, version: version, libraryPath: libraryPath)
    }

    /// Opens a model file with `threads` intra-op threads.
    public func makeSession(modelPath: String, threads: Int = 1) throws(InferenceError) -> ONNXRuntimeSession {
        try ONNXRuntimeSession(runtime: self, modelPath: modelPath, threads: threads)
    }

    // MARK: - OrtApi slots

    typealias Status = OpaquePointer?
    typealias Out = UnsafeMutablePointer<OpaquePointer?>

    func slot<T>(_ index: Int, as type: T.Type) -> T {
        unsafeBitCast(api[index], to: type)
    }

    var getErrorMessage: @convention(c) (OpaquePointer) -> UnsafePointer<CChar>? {
        slot(2, as: (@convention(c) (OpaquePointer) -> UnsafePointer<CChar>?).self)
    }
    var createEnv: @convention(c) (Int32, UnsafePointer<CChar>, Out) -> Status {
        slot(3, as: (@convention(c) (Int32, UnsafePointer<CChar>, Out) -> Status).self)
    }
    var createSession: @convention(c) (OpaquePointer, UnsafePointer<CChar>, OpaquePointer, Out) -> Status {
        slot(7, as: (@convention(c) (OpaquePointer, UnsafePointer<CChar>, OpaquePointer, Out) -> Status).self)
    }
    var run:
        @convention(c) (
            OpaquePointer, OpaquePointer?, UnsafePointer<UnsafePointer<CChar>?>, UnsafePointer<OpaquePointer?>, Int,
            UnsafePointer<UnsafePointer<CChar>?>, Int, Out
        ) -> Status
    {
        slot(
            9,
            as: (@convention(c) (
                OpaquePointer, OpaquePointer?, UnsafePointer<UnsafePointer<CChar>?>, UnsafePointer<OpaquePointer?>, Int,
                UnsafePointer<UnsafePointer<CChar>?>, Int, Out
            ) -> Status).self
        )
    }
    var createSessionOptions: @convention(c) (Out) -> Status { slot(10, as: (@convention(c) (Out) -> Status).self) }
    var setIntraOpNumThreads: @convention(c) (OpaquePointer, Int32) -> Status {
        slot(24, as: (@convention(c) (OpaquePointer, Int32) -> Status).self)
    }
    var createTensorWithData:
        @convention(c) (OpaquePointer, UnsafeMutableRawPointer, Int, UnsafePointer<Int64>, Int, Int32, Out) -> Status
    {
        slot(
            49,
            as: (@convention(c) (OpaquePointer, UnsafeMutableRawPointer, Int, UnsafePointer<Int64>, Int, Int32, Out) ->
                Status).self
        )
    }
    var getTensorMutableData: @convention(c) (OpaquePointer, UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> Status {
        slot(51, as: (@convention(c) (OpaquePointer, UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> Status).self)
    }
    var getTensorElementType: @convention(c) (OpaquePointer, UnsafeMutablePointer<Int32>) -> Status {
        slot(60, as: (@convention(c) (OpaquePointer, UnsafeMutablePointer<Int32>) -> Status).self)
    }
    var getDimensionsCount: @convention(c) (OpaquePointer, UnsafeMutablePointer<Int>) -> Status {
        slot(61, as: (@convention(c) (OpaquePointer, UnsafeMutablePointer<Int>) -> Status).self)
    }
    var getDimensions: @convention(c) (OpaquePointer, UnsafeMutablePointer<Int64>, Int) -> Status {
        slot(62, as: (@convention(c) (OpaquePointer, UnsafeMutablePointer<Int64>, Int) -> Status).self)
    }
    var getTensorTypeAndShape: @convention(c) (OpaquePointer, Out) -> Status {
        slot(65, as: (@convention(c) (OpaquePointer, Out) -> Status).self)
    }
    var createCpuMemoryInfo: @convention(c) (Int32, Int32, Out) -> Status {
        slot(69, as: (@convention(c) (Int32, Int32, Out) -> Status).self)
    }

    typealias Release = @convention(c) (OpaquePointer?) -> Void
    var releaseEnv: Release { slot(92, as: Release.self) }
    var releaseStatus: Release { slot(93, as: Release.self) }
    var releaseMemoryInfo: Release { slot(94, as: Release.self) }
    var releaseSession: Release { slot(95, as: Release.self) }
    var releaseValue: Release { slot(96, as: Release.self) }
    var releaseTensorTypeAndShapeInfo: Release { slot(99, as: Release.self) }
    var releaseSessionOptions: Release { slot(100, as: Release.self) }

    /// Turns an OrtStatus into an error (and frees it).
    func check(_ status: Status, _ what: String) throws(InferenceError) {
        guard let status else { return }
        let message = getErrorMessage(status).map { String(cString: $0) } ?? "unknown error"
        releaseStatus(status)
        throw InferenceError(.backendUnavailable, "ONNX Runtime \(what): \(message)")
    }
}
