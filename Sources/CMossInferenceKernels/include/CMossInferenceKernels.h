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

/// NCHW depthwise convolution of one image: x[C][H][W], filter[C][kh][kw], optional bias[C] → y[C][OH][OW].
/// `scratch` holds moss_depthwise_nchw_scratch(g) floats (a zero-padded copy of one channel plane).
void moss_depthwise_nchw(const MossDepthwiseGeometry *g, const float *x, const float *filter, const float *bias, float *y,
                         float *scratch);

/// The scratch space, in floats, moss_depthwise_nchw needs.
long moss_depthwise_nchw_scratch(const MossDepthwiseGeometry *g);

/// NHWC depthwise convolution of one image: x[H][W][C], filter[kh][kw][C], optional bias[C] → y[OH][OW][C].
void moss_depthwise_nhwc(const MossDepthwiseGeometry *g, const float *x, const float *filter, const float *bias, float *y);

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
