// Hot kernels of MossInference in C: each is compiled for the baseline and, through per-function target
// attributes, for AVX2+FMA; the variant is chosen at run time from the CPU's features. Package.swift passes no
// CPU-specific flags.
#ifndef CMOSS_INFERENCE_KERNELS_H
#define CMOSS_INFERENCE_KERNELS_H

#ifdef __cplusplus
extern "C" {
#endif

/// The geometry of a 2-D depthwise convolution with a channel multiplier of 1.
typedef struct {
    int channels, height, width, outHeight, outWidth;
    int kernelHeight, kernelWidth, strideHeight, strideWidth, dilationHeight, dilationWidth, padTop, padLeft;
} MossDepthwiseGeometry;

/// NCHW depthwise convolution of one image: x[C][H][W], filter[C][kh][kw], optional bias[C] → y[C][OH][OW], each
/// output clamped to [low, high] (pass ±infinity for none). `scratch` holds moss_depthwise_nchw_scratch(g) floats
/// (a zero-padded copy of one channel plane; for 3×3 stride 2 its even and odd columns apart).
void moss_depthwise_nchw(const MossDepthwiseGeometry *g, const float *x, const float *filter, const float *bias, float *y,
                         float *scratch, float low, float high);

/// The scratch space, in floats, moss_depthwise_nchw needs.
long moss_depthwise_nchw_scratch(const MossDepthwiseGeometry *g);

/// NHWC depthwise convolution of one image: x[H][W][C], filter[kh][kw][C], optional bias[C] → y[OH][OW][C], each
/// output clamped to [low, high].
void moss_depthwise_nhwc(const MossDepthwiseGeometry *g, const float *x, const float *filter, const float *bias, float *y,
                         float low, float high);

/// Whether the pointwise (1×1 convolution) kernels below have a vector variant on this CPU (AVX2 and FMA, not
/// forced off); without one, callers keep their portable path.
int moss_pointwise_available(void);

/// Channels-first 1×1 convolution as y[M][N] = clamp(W[M][K] · x[K][N] + bias[M]) with W packed once by
/// moss_pointwise_nchw_pack into moss_pointwise_nchw_packed_count(M, K) floats (6-row panels, zero-padded).
/// `scratch` holds moss_pointwise_nchw_scratch(K) floats (one 16-column panel of x). bias may be NULL.
long moss_pointwise_nchw_packed_count(int m, int k);
void moss_pointwise_nchw_pack(const float *w, int m, int k, float *packed);
long moss_pointwise_nchw_scratch(int k);
void moss_pointwise_nchw(const float *packed, const float *bias, const float *x, float *y, int m, int k, int n,
                         float low, float high, float *scratch);

/// Channels-last 1×1 convolution as y[M][N] = clamp(x[M][K] · W[K][N] + bias[N]) with W (and the bias) packed
/// once by moss_pointwise_nhwc_pack into moss_pointwise_nhwc_packed_count(K, N) floats (16-column panels).
long moss_pointwise_nhwc_packed_count(int k, int n);
void moss_pointwise_nhwc_pack(const float *w, const float *bias, int k, int n, float *packed);
void moss_pointwise_nhwc(const float *packed, const float *x, float *y, int m, int k, int n, float low, float high);

/// A row vector times a matrix, c[n] = alpha · (a[k] · B[k][n]) + beta · c[n] with B row-major (leading dimension
/// ldb): a classifier layer at batch 1, where a general SGEMM would repack all of B on every call. B is read once,
/// 64 columns at a time. Returns 0 (and does nothing) when the CPU has no vector variant.
int moss_row_times_matrix(const float *a, const float *b, long ldb, int k, int n, float alpha, float beta, float *c);

/// y[i] = min(max(x[i], low), high); x may equal y.
void moss_clip(const float *x, float *y, long count, float low, float high);

/// Forces the portable variants (non-zero) or restores run-time selection (zero): lets tests and benchmarks run
/// the code path a CPU without AVX2 takes.
void moss_kernels_force_generic(int force);

/// The name of the variant the dispatcher chose ("avx2" or "generic"), for diagnostics and benchmarks.
const char *moss_kernels_variant(void);

#ifdef __cplusplus
}
#endif

#endif
