#include "CMossInferenceKernels.h"

#include <stdatomic.h>
#include <stddef.h>

static atomic_int force_generic;

void moss_kernels_force_generic(int force) { atomic_store(&force_generic, force != 0); }

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define MOSS_X86 1
#endif

// The bodies are written once and instantiated per target, so the compiler vectorises each for its ISA.
// NCHW: one output row at a time (it stays in L1), every tap of each valid kernel row accumulated into it.
#define DEPTHWISE_NCHW_BODY(ROW)                                                                                    \
    const int plane = g->height * g->width, outPlane = g->outHeight * g->outWidth;                                  \
    for (int c = 0; c < g->channels; c++) {                                                                          \
        const float *source = x + (size_t)c * plane;                                                                 \
        const float b = bias ? bias[c] : 0.0f;                                                                       \
        for (int oh = 0; oh < g->outHeight; oh++) {                                                                  \
            float *row = y + (size_t)c * outPlane + (size_t)oh * g->outWidth;                                        \
            for (int i = 0; i < g->outWidth; i++) row[i] = b;                                                        \
            for (int kh = 0; kh < g->kernelHeight; kh++) {                                                           \
                const int ih = oh * g->strideHeight + kh * g->dilationHeight - g->padTop;                            \
                if (ih < 0 || ih >= g->height) continue;                                                             \
                ROW(g, row, source + (size_t)ih * g->width, filter + ((size_t)c * g->kernelHeight + kh) * g->kernelWidth); \
            }                                                                                                        \
        }                                                                                                            \
    }

// The taps of one kernel row for output column `ow`, checking bounds: the portable path.
static inline void row_scalar_column(const MossDepthwiseGeometry *g, float *row, const float *input, const float *taps, int ow) {
    float sum = row[ow];
    for (int kw = 0; kw < g->kernelWidth; kw++) {
        const int iw = ow * g->strideWidth - g->padLeft + kw * g->dilationWidth;
        if (iw >= 0 && iw < g->width) sum += taps[kw] * input[iw];
    }
    row[ow] = sum;
}

static inline void row_generic(const MossDepthwiseGeometry *g, float *row, const float *input, const float *taps) {
    for (int ow = 0; ow < g->outWidth; ow++) row_scalar_column(g, row, input, taps, ow);
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

// The zero-padded copy of one channel plane the vector path reads: wide and tall enough that every output column,
// rounded up to eight, reads inside it.
static inline void padded_plane(const MossDepthwiseGeometry *g, int *rows, int *stride) {
    const int columns = (g->outWidth + 7) / 8 * 8;
    const int width = columns * g->strideWidth + (g->kernelWidth - 1) * g->dilationWidth + 16;
    const int height = (g->outHeight - 1) * g->strideHeight + (g->kernelHeight - 1) * g->dilationHeight + 1;
    *rows = height > g->height + g->padTop ? height : g->height + g->padTop;
    *stride = width > g->width + g->padLeft ? width : g->width + g->padLeft;
}

long moss_depthwise_nchw_scratch(const MossDepthwiseGeometry *g) {
    int rows, stride;
    padded_plane(g, &rows, &stride);
    return (long)rows * stride;
}

static void depthwise_nchw_generic(const MossDepthwiseGeometry *g, const float *x, const float *filter, const float *bias, float *y, float *scratch) {
    (void)scratch;
    DEPTHWISE_NCHW_BODY(row_generic)
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
// Eight inputs at stride 1 or 2 (the even elements of 16 floats: shuffled within lanes, lanes put in order).
__attribute__((target("avx2,fma"))) static inline __m256 load_strided(const float *p, int stride) {
    if (stride == 1) return _mm256_loadu_ps(p);
    const __m256 a = _mm256_loadu_ps(p), b = _mm256_loadu_ps(p + 8);
    return _mm256_castpd_ps(
        _mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0))), _MM_SHUFFLE(3, 1, 2, 0)));
}

// Per channel: copy the plane into the zero-padded scratch, then each output row eight columns at a time with
// every tap of the kernel accumulated in registers (one store per eight outputs).
__attribute__((target("avx2,fma"))) static void depthwise_nchw_avx2(const MossDepthwiseGeometry *g, const float *x, const float *filter, const float *bias, float *y, float *scratch) {
    const int s = g->strideWidth;
    if ((s != 1 && s != 2) || g->kernelWidth * g->kernelHeight > 16 || !scratch) {
        depthwise_nchw_generic(g, x, filter, bias, y, scratch);
        return;
    }
    int rows, stride;
    padded_plane(g, &rows, &stride);
    const int plane = g->height * g->width, outPlane = g->outHeight * g->outWidth, taps = g->kernelHeight * g->kernelWidth;
    for (long i = 0; i < (long)rows * stride; i++) scratch[i] = 0.0f;
    for (int c = 0; c < g->channels; c++) {
        const float *source = x + (size_t)c * plane;
        for (int h = 0; h < g->height; h++) {
            float *target = scratch + (size_t)(h + g->padTop) * stride + g->padLeft;
            for (int w = 0; w < g->width; w++) target[w] = source[(size_t)h * g->width + w];
        }
        __m256 weights[16];
        const float *kernel = filter + (size_t)c * taps;
        for (int t = 0; t < taps; t++) weights[t] = _mm256_set1_ps(kernel[t]);
        const __m256 b = _mm256_set1_ps(bias ? bias[c] : 0.0f);
        float *out = y + (size_t)c * outPlane;
        for (int oh = 0; oh < g->outHeight; oh++) {
            const float *top = scratch + (size_t)oh * g->strideHeight * stride;
            float *row = out + (size_t)oh * g->outWidth;
            for (int ow = 0; ow < g->outWidth; ow += 8) {
                __m256 acc = b;
                for (int kh = 0; kh < g->kernelHeight; kh++) {
                    const float *base = top + (size_t)kh * g->dilationHeight * stride + (size_t)ow * s;
                    for (int kw = 0; kw < g->kernelWidth; kw++)
                        acc = _mm256_fmadd_ps(weights[kh * g->kernelWidth + kw], load_strided(base + kw * g->dilationWidth, s), acc);
                }
                if (g->outWidth - ow >= 8) {
                    _mm256_storeu_ps(row + ow, acc);
                } else {
                    float tail[8];
                    _mm256_storeu_ps(tail, acc);
                    for (int i = 0; i < g->outWidth - ow; i++) row[ow + i] = tail[i];
                }
            }
        }
    }
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
    static atomic_int cached = -1;
    int supported = atomic_load(&cached);
    if (supported < 0) {
        __builtin_cpu_init();
        supported = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        atomic_store(&cached, supported);
    }
    return supported && !atomic_load(&force_generic);
}
#else
static int has_avx2(void) { return 0; }
#endif


void moss_depthwise_nchw(const MossDepthwiseGeometry *g, const float *x, const float *filter, const float *bias, float *y, float *scratch) {
#ifdef MOSS_X86
    if (has_avx2()) {
        depthwise_nchw_avx2(g, x, filter, bias, y, scratch);
        return;
    }
#endif
    depthwise_nchw_generic(g, x, filter, bias, y, scratch);
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
