#include "CMossInferenceKernels.h"

#include <stddef.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define MOSS_X86 1
#endif

// The first output index o with 0 <= o*stride + shift, and one past the last with o*stride + shift < size.
static inline void valid_range(int count, int stride, int shift, int size, int *first, int *end) {
    int f = shift >= 0 ? 0 : (-shift + stride - 1) / stride;
    int last = size - 1 - shift < 0 ? -1 : (size - 1 - shift) / stride;
    int e = last + 1 < count ? last + 1 : count;
    *first = f;
    *end = e > f ? e : f;
}

// The bodies are written once and instantiated per target, so the compiler vectorises each for its ISA.
#define DEPTHWISE_NCHW_BODY(AXPY)                                                                                   \
    const int plane = g->height * g->width, outPlane = g->outHeight * g->outWidth;                                  \
    for (int c = 0; c < g->channels; c++) {                                                                          \
        const float *source = x + (size_t)c * plane;                                                                 \
        float *target = y + (size_t)c * outPlane;                                                                    \
        const float b = bias ? bias[c] : 0.0f;                                                                       \
        for (int i = 0; i < outPlane; i++) target[i] = b;                                                            \
        for (int kh = 0; kh < g->kernelHeight; kh++) {                                                               \
            int rowFirst, rowEnd;                                                                                    \
            valid_range(g->outHeight, g->strideHeight, kh * g->dilationHeight - g->padTop, g->height, &rowFirst, &rowEnd); \
            for (int kw = 0; kw < g->kernelWidth; kw++) {                                                            \
                const float weight = filter[((size_t)c * g->kernelHeight + kh) * g->kernelWidth + kw];              \
                const int shift = kw * g->dilationWidth - g->padLeft;                                                \
                int colFirst, colEnd;                                                                                \
                valid_range(g->outWidth, g->strideWidth, shift, g->width, &colFirst, &colEnd);                       \
                for (int oh = rowFirst; oh < rowEnd; oh++) {                                                         \
                    const float *sourceRow =                                                                         \
                        source + (size_t)(oh * g->strideHeight + kh * g->dilationHeight - g->padTop) * g->width + shift; \
                    float *targetRow = target + (size_t)oh * g->outWidth;                                            \
                    AXPY(targetRow + colFirst, sourceRow + (size_t)colFirst * g->strideWidth, weight, colEnd - colFirst, \
                         g->strideWidth);                                                                            \
                }                                                                                                    \
            }                                                                                                        \
        }                                                                                                            \
    }

#define DEPTHWISE_NHWC_BODY                                                                                          \
    const int C = g->channels;                                                                                       \
    for (int oh = 0; oh < g->outHeight; oh++) {                                                                      \
        for (int ow = 0; ow < g->outWidth; ow++) {                                                                   \
            float *restrict target = y + ((size_t)oh * g->outWidth + ow) * C;                                        \
            for (int c = 0; c < C; c++) target[c] = bias ? bias[c] : 0.0f;                                           \
            for (int kh = 0; kh < g->kernelHeight; kh++) {                                                           \
                const int ih = oh * g->strideHeight + kh * g->dilationHeight - g->padTop;                            \
                if (ih < 0 || ih >= g->height) continue;                                                             \
                for (int kw = 0; kw < g->kernelWidth; kw++) {                                                        \
                    const int iw = ow * g->strideWidth + kw * g->dilationWidth - g->padLeft;                         \
                    if (iw < 0 || iw >= g->width) continue;                                                          \
                    const float *restrict source = x + ((size_t)ih * g->width + iw) * C;                             \
                    const float *restrict weights = filter + ((size_t)kh * g->kernelWidth + kw) * C;                 \
                    for (int c = 0; c < C; c++) target[c] += source[c] * weights[c];                                 \
                }                                                                                                    \
            }                                                                                                        \
        }                                                                                                            \
    }

static inline void axpy_generic(float *restrict y, const float *restrict x, float w, int n, int stride) {
    if (stride == 1) {
        for (int i = 0; i < n; i++) y[i] += w * x[i];
    } else {
        for (int i = 0; i < n; i++) y[i] += w * x[(size_t)i * stride];
    }
}

static void depthwise_nchw_generic(const MossDepthwiseGeometry *g, const float *x, const float *filter, const float *bias, float *y) {
    DEPTHWISE_NCHW_BODY(axpy_generic)
}

static void depthwise_nhwc_generic(const MossDepthwiseGeometry *g, const float *x, const float *filter, const float *bias, float *y) {
    DEPTHWISE_NHWC_BODY
}

static void clip_generic(const float *x, float *y, long count, float low, float high) {
    for (long i = 0; i < count; i++) {
        float v = x[i] < low ? low : x[i];
        y[i] = v > high ? high : v;
    }
}

#ifdef MOSS_X86
__attribute__((target("avx2,fma"))) static inline void axpy_avx2(float *y, const float *x, float w, int n, int stride) {
    const __m256 vw = _mm256_set1_ps(w);
    int i = 0;
    if (stride == 1) {
        for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(vw, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    } else if (stride == 2) {
        // Even elements of 16 consecutive floats: shuffle within lanes, then put the lanes in order.
        for (; i + 8 <= n; i += 8) {
            const __m256 a = _mm256_loadu_ps(x + 2 * i), b = _mm256_loadu_ps(x + 2 * i + 8);
            const __m256 even = _mm256_castpd_ps(
                _mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0))), _MM_SHUFFLE(3, 1, 2, 0)));
            _mm256_storeu_ps(y + i, _mm256_fmadd_ps(vw, even, _mm256_loadu_ps(y + i)));
        }
    }
    for (; i < n; i++) y[i] += w * x[(size_t)i * stride];
}

__attribute__((target("avx2,fma"))) static void depthwise_nchw_avx2(const MossDepthwiseGeometry *g, const float *x, const float *filter, const float *bias, float *y) {
    DEPTHWISE_NCHW_BODY(axpy_avx2)
}

__attribute__((target("avx2,fma"))) static void depthwise_nhwc_avx2(const MossDepthwiseGeometry *g, const float *x, const float *filter, const float *bias, float *y) {
    DEPTHWISE_NHWC_BODY
}

__attribute__((target("avx2,fma"))) static void clip_avx2(const float *x, float *y, long count, float low, float high) {
    const __m256 lo = _mm256_set1_ps(low), hi = _mm256_set1_ps(high);
    long i = 0;
    for (; i + 8 <= count; i += 8) _mm256_storeu_ps(y + i, _mm256_min_ps(_mm256_max_ps(_mm256_loadu_ps(x + i), lo), hi));
    for (; i < count; i++) {
        float v = x[i] < low ? low : x[i];
        y[i] = v > high ? high : v;
    }
}

static int has_avx2(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    return cached;
}
#else
static int has_avx2(void) { return 0; }
#endif

void moss_depthwise_nchw(const MossDepthwiseGeometry *g, const float *x, const float *filter, const float *bias, float *y) {
#ifdef MOSS_X86
    if (has_avx2()) {
        depthwise_nchw_avx2(g, x, filter, bias, y);
        return;
    }
#endif
    depthwise_nchw_generic(g, x, filter, bias, y);
}

void moss_depthwise_nhwc(const MossDepthwiseGeometry *g, const float *x, const float *filter, const float *bias, float *y) {
#ifdef MOSS_X86
    if (has_avx2()) {
        depthwise_nhwc_avx2(g, x, filter, bias, y);
        return;
    }
#endif
    depthwise_nhwc_generic(g, x, filter, bias, y);
}

void moss_clip(const float *x, float *y, long count, float low, float high) {
#ifdef MOSS_X86
    if (has_avx2()) {
        clip_avx2(x, y, count, low, high);
        return;
    }
#endif
    clip_generic(x, y, count, low, high);
}

const char *moss_kernels_variant(void) { return has_avx2() ? "avx2" : "generic"; }
