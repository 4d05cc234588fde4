#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// OpenBLAS's `cblas_sgemm`, found with dlopen when the process starts using matrix products, so Moss builds and
/// runs without it (Debian: libopenblas0). `MOSS_OPENBLAS` names another library file; `MOSS_OPENBLAS=none` turns
/// it off, leaving the portable kernel.
package enum OpenBLAS {
    /// `cblas_sgemm(order, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)` with 32-bit integers.
    package typealias SGEMM =
        @convention(c) (
            Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32, UnsafePointer<Float>?, Int32,
            Float,
            UnsafeMutablePointer<Float>?, Int32
        ) -> Void

    package static let rowMajor: Int32 = 101
    package static let noTranspose: Int32 = 111
    package static let transpose: Int32 = 112

    private static let library = load()
    /// The library's `cblas_sgemm`, or nil when no OpenBLAS could be loaded.
    package static var sgemm: SGEMM? { library.sgemm }
    /// The file that was loaded, for diagnostics.
    package static var loadedPath: String? { library.path }

    private static func load() -> (sgemm: SGEMM?, path: String?) {
        let override = getenv("MOSS_OPENBLAS").map { String(cString: $0) }
        if override == "none" { return (nil, nil) }
        let candidates = override.map { [$0] } ?? ["libopenblas.so.0", "libopenblas.so", "libopenblas.dylib"]
        for path in candidates {
            guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL), let symbol = dlsym(handle, "cblas_sgemm") else {
                continue
            }
            return (unsafeBitCast(symbol, to: SGEMM.self), path)
        }
        return (nil, nil)
    }
}
