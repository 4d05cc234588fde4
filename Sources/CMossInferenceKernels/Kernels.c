#include "CMossInferenceKernels.h"

#include <stdatomic.h>
#include <stddef.h>

static atomic_int force_generic;

void moss_kernels_force_generic(int force) { atomic_store(&force_generic, force != 0); }

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define MOSS_X86 1
#endif

static inline float clamp_scalar(float v, float low, float high) {
    v = v < low ? low : v;
    return v > high ? high : v;
}

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
            for (int i = 0; i < g->outWidth; i++) row[i] = clamp_scalar(row[i], low, high);                          \
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
            for (int c = 0; c < C; c++) target[c] = clamp_scalar(target[c], low, high);                              \
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
    return (long)rows * (stride + 16);
}

static void depthwise_nchw_generic(const MossDepthwiseGeometry *g, const float *x, const float *filter, const float *bias, float *y, float *scratch, float low, float high) {
    (void)scratch;
    DEPTHWISE_NCHW_BODY(row_generic)
}

static void depthwise_nhwc_generic(const MossDepthwiseGeometry *g, const float *x, const float *filter, const float *bias, float *y, float low, float high) {
    DEPTHWISE_NHWC_BODY
}

static void clip_generic(const float *x, float *y, long count, float low, float high) {
    for (long i = 0; i < count; i++) {
        float v = x[i] < low ? low : x[i];
        y[i] = v > high ? high : v;
    }
}

#ifdef MOSS_X86
static void depthwise3x3_nchw_avx2(const MossDepthwiseGeometry *g, const float *x, const float *filter, const float *bias, float *y, float *scratch, float low, float high);
static void depthwise3x3_nhwc_avx2(const MossDepthwiseGeometry *g, const float *x, const float *filter, const float *bias, float *y, float low, float high);

// Eight inputs at stride 1 or 2 (the even elements of 16 floats: shuffled within lanes, lanes put in order).
__attribute__((target("avx2,fma"))) static inline __m256 load_strided(const float *p, int stride) {
    if (stride == 1) return _mm256_loadu_ps(p);
    const __m256 a = _mm256_loadu_ps(p), b = _mm256_loadu_ps(p + 8);
    return _mm256_castpd_ps(
        _mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0))), _MM_SHUFFLE(3, 1, 2, 0)));
}

// Per channel: copy the plane into the zero-padded scratch, then each output row eight columns at a time with
// every tap of the kernel accumulated in registers (one store per eight outputs).
__attribute__((target("avx2,fma"))) static void depthwise_nchw_avx2(const MossDepthwiseGeometry *g, const float *x, const float *filter, const float *bias, float *y, float *scratch, float low, float high) {
    const int s = g->strideWidth;
    if ((s != 1 && s != 2) || g->kernelWidth * g->kernelHeight > 16 || !scratch) {
        depthwise_nchw_generic(g, x, filter, bias, y, scratch, low, high);
        return;
    }
    if (g->kernelHeight == 3 && g->kernelWidth == 3 && g->dilationHeight == 1 && g->dilationWidth == 1 && g->strideHeight == s) {
        depthwise3x3_nchw_avx2(g, x, filter, bias, y, scratch, low, high);
        return;
    }
    const __m256 lo = _mm256_set1_ps(low), hi = _mm256_set1_ps(high);
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
                acc = _mm256_min_ps(_mm256_max_ps(acc, lo), hi);
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

__attribute__((target("avx2,fma"))) static void depthwise_nhwc_avx2(const MossDepthwiseGeometry *g, const float *x, const float *filter, const float *bias, float *y, float low, float high) {
    if (g->kernelHeight == 3 && g->kernelWidth == 3 && g->dilationHeight == 1 && g->dilationWidth == 1 && g->channels % 8 == 0) {
        depthwise3x3_nhwc_avx2(g, x, filter, bias, y, low, high);
        return;
    }
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

#define AVX2 __attribute__((target("avx2,fma")))
#define AVX2_INLINE __attribute__((target("avx2,fma"), always_inline)) static inline

// A mask of the first `count` (0…8) lanes.
AVX2_INLINE __m256i first_lanes(int count) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

AVX2_INLINE void store_first(float *p, __m256 v, int count) {
    if (count >= 8) _mm256_storeu_ps(p, v);
    else if (count > 0) _mm256_maskstore_ps(p, first_lanes(count), v);
}

AVX2_INLINE void store_row(float *p, __m256 v, int count, const float *end) {
    if (count >= 8 || p + 8 <= end) _mm256_storeu_ps(p, v);
    else _mm256_maskstore_ps(p, first_lanes(count), v);
}

// 3×3 depthwise, NCHW, stride 1 or 2, dilation 1: the nine taps and the bias in registers; each channel plane is
// copied into a zero-padded scratch plane (for stride 2 as its even and odd columns, so every tap is a plain load);
// the clamp is applied before the store.
AVX2 static void depthwise3x3_nchw_avx2(const MossDepthwiseGeometry *g, const float *x, const float *filter, const float *bias, float *y, float *scratch, float low, float high) {
    int rows, stride;
    padded_plane(g, &rows, &stride);
    const int s = g->strideWidth, pt = g->padTop, pl = g->padLeft, W = g->width, H = g->height, OW = g->outWidth;
    const int half = stride / 2 + 8;
    float *even = scratch, *odd = scratch + (size_t)rows * half;
    const long total = s == 1 ? (long)rows * stride : (long)rows * half * 2;
    for (long i = 0; i < total; i++) scratch[i] = 0.0f;
    const __m256 lo = _mm256_set1_ps(low), hi = _mm256_set1_ps(high);
    const size_t plane = (size_t)H * W, outPlane = (size_t)g->outHeight * OW;
    for (int c = 0; c < g->channels; c++) {
        const float *source = x + c * plane;
        if (s == 1) {
            for (int h = 0; h < H; h++) {
                float *target = scratch + (size_t)(h + pt) * stride + pl;
                const float *from = source + (size_t)h * W;
                // Vector copies only (scalar stores read back by vector loads stall store forwarding); the last
                // one masked, its zero lanes landing in the row's right padding.
                for (int w = 0; w < W; w += 8)
                    _mm256_storeu_ps(target + w, W - w >= 8 ? _mm256_loadu_ps(from + w) : _mm256_maskload_ps(from + w, first_lanes(W - w)));
            }
        } else {
            float *evenTarget = (pl & 1) ? odd : even, *oddTarget = (pl & 1) ? even : odd;
            for (int h = 0; h < H; h++) {
                const size_t row = (size_t)(h + pt) * half;
                const float *from = source + (size_t)h * W;
                for (int w = 0; w < W; w += 16) {
                    const int left = W - w;
                    const __m256 a = left >= 8 ? _mm256_loadu_ps(from + w) : _mm256_maskload_ps(from + w, first_lanes(left));
                    const __m256 b = left >= 16 ? _mm256_loadu_ps(from + w + 8)
                                                : _mm256_maskload_ps(from + w + 8, first_lanes(left - 8));
                    const __m256 evens = _mm256_castpd_ps(_mm256_permute4x64_pd(
                        _mm256_castps_pd(_mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0))), _MM_SHUFFLE(3, 1, 2, 0)));
                    const __m256 odds = _mm256_castpd_ps(_mm256_permute4x64_pd(
                        _mm256_castps_pd(_mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1))), _MM_SHUFFLE(3, 1, 2, 0)));
                    _mm256_storeu_ps(evenTarget + row + (pl + w) / 2, evens);
                    _mm256_storeu_ps(oddTarget + row + (pl + w + 1) / 2, odds);
                }
            }
        }
        const float *k = filter + (size_t)c * 9;
        const __m256 w0 = _mm256_set1_ps(k[0]), w1 = _mm256_set1_ps(k[1]), w2 = _mm256_set1_ps(k[2]);
        const __m256 w3 = _mm256_set1_ps(k[3]), w4 = _mm256_set1_ps(k[4]), w5 = _mm256_set1_ps(k[5]);
        const __m256 w6 = _mm256_set1_ps(k[6]), w7 = _mm256_set1_ps(k[7]), w8 = _mm256_set1_ps(k[8]);
        const __m256 b = _mm256_set1_ps(bias ? bias[c] : 0.0f);
        float *out = y + c * outPlane;
        // Outputs are written in address order: a short last vector of a row may spill into what comes next (it
        // is rewritten after), as long as it stays inside the output.
        const float *end = y + g->channels * outPlane;
        for (int oh = 0; oh < g->outHeight; oh++) {
            float *row = out + (size_t)oh * OW;
            if (s == 1) {
                const float *r0 = scratch + (size_t)oh * stride, *r1 = r0 + stride, *r2 = r1 + stride;
                for (int ow = 0; ow < OW; ow += 8) {
                    __m256 a = _mm256_fmadd_ps(w0, _mm256_loadu_ps(r0 + ow), b);
                    __m256 d = _mm256_mul_ps(w1, _mm256_loadu_ps(r0 + ow + 1));
                    a = _mm256_fmadd_ps(w2, _mm256_loadu_ps(r0 + ow + 2), a);
                    d = _mm256_fmadd_ps(w3, _mm256_loadu_ps(r1 + ow), d);
                    a = _mm256_fmadd_ps(w4, _mm256_loadu_ps(r1 + ow + 1), a);
                    d = _mm256_fmadd_ps(w5, _mm256_loadu_ps(r1 + ow + 2), d);
                    a = _mm256_fmadd_ps(w6, _mm256_loadu_ps(r2 + ow), a);
                    d = _mm256_fmadd_ps(w7, _mm256_loadu_ps(r2 + ow + 1), d);
                    a = _mm256_fmadd_ps(w8, _mm256_loadu_ps(r2 + ow + 2), a);
                    store_row(row + ow, _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(a, d), lo), hi), OW - ow, end);
                }
            } else {
                const size_t top = (size_t)oh * 2 * half;
                const float *e0 = even + top, *o0 = odd + top, *e1 = e0 + half, *o1 = o0 + half, *e2 = e1 + half, *o2 = o1 + half;
                for (int ow = 0; ow < OW; ow += 8) {
                    __m256 a = _mm256_fmadd_ps(w0, _mm256_loadu_ps(e0 + ow), b);
                    __m256 d = _mm256_mul_ps(w1, _mm256_loadu_ps(o0 + ow));
                    a = _mm256_fmadd_ps(w2, _mm256_loadu_ps(e0 + ow + 1), a);
                    d = _mm256_fmadd_ps(w3, _mm256_loadu_ps(e1 + ow), d);
                    a = _mm256_fmadd_ps(w4, _mm256_loadu_ps(o1 + ow), a);
                    d = _mm256_fmadd_ps(w5, _mm256_loadu_ps(e1 + ow + 1), d);
                    a = _mm256_fmadd_ps(w6, _mm256_loadu_ps(e2 + ow), a);
                    d = _mm256_fmadd_ps(w7, _mm256_loadu_ps(o2 + ow), d);
                    a = _mm256_fmadd_ps(w8, _mm256_loadu_ps(e2 + ow + 1), a);
                    store_row(row + ow, _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(a, d), lo), hi), OW - ow, end);
                }
            }
        }
    }
}

// 3×3 depthwise, NHWC, channels a multiple of 8, dilation 1, any stride: per output row and block of eight
// channels the nine taps live in registers (a row outside the image gets zero taps); columns whose window leaves
// the image take a checked path.
AVX2 static void depthwise3x3_nhwc_avx2(const MossDepthwiseGeometry *g, const float *x, const float *filter, const float *bias, float *y, float low, float high) {
    const int C = g->channels, W = g->width, H = g->height, OW = g->outWidth, sh = g->strideHeight, sw = g->strideWidth;
    const __m256 lo = _mm256_set1_ps(low), hi = _mm256_set1_ps(high), zero = _mm256_setzero_ps();
    const size_t rowSize = (size_t)W * C;
    for (int oh = 0; oh < g->outHeight; oh++) {
        const float *rows[3];
        int valid[3];
        for (int kh = 0; kh < 3; kh++) {
            const int ih = oh * sh + kh - g->padTop;
            valid[kh] = ih >= 0 && ih < H;
            rows[kh] = x + (valid[kh] ? (size_t)ih * rowSize : 0);
        }
        float *outRow = y + (size_t)oh * OW * C;
        for (int cb = 0; cb < C; cb += 8) {
            const float *f = filter + cb;
            const __m256 w0 = valid[0] ? _mm256_loadu_ps(f) : zero, w1 = valid[0] ? _mm256_loadu_ps(f + C) : zero;
            const __m256 w2 = valid[0] ? _mm256_loadu_ps(f + 2 * C) : zero;
            const __m256 w3 = valid[1] ? _mm256_loadu_ps(f + 3 * C) : zero, w4 = valid[1] ? _mm256_loadu_ps(f + 4 * C) : zero;
            const __m256 w5 = valid[1] ? _mm256_loadu_ps(f + 5 * C) : zero;
            const __m256 w6 = valid[2] ? _mm256_loadu_ps(f + 6 * C) : zero, w7 = valid[2] ? _mm256_loadu_ps(f + 7 * C) : zero;
            const __m256 w8 = valid[2] ? _mm256_loadu_ps(f + 8 * C) : zero;
            const __m256 b = bias ? _mm256_loadu_ps(bias + cb) : zero;
            const float *r0 = rows[0] + cb, *r1 = rows[1] + cb, *r2 = rows[2] + cb;
            for (int ow = 0; ow < OW; ow++) {
                const int iw = ow * sw - g->padLeft;
                __m256 a, d;
                if (iw >= 0 && iw + 2 < W) {
                    const size_t p = (size_t)iw * C;
                    a = _mm256_fmadd_ps(w0, _mm256_loadu_ps(r0 + p), b);
                    d = _mm256_mul_ps(w1, _mm256_loadu_ps(r0 + p + C));
                    a = _mm256_fmadd_ps(w2, _mm256_loadu_ps(r0 + p + 2 * C), a);
                    d = _mm256_fmadd_ps(w3, _mm256_loadu_ps(r1 + p), d);
                    a = _mm256_fmadd_ps(w4, _mm256_loadu_ps(r1 + p + C), a);
                    d = _mm256_fmadd_ps(w5, _mm256_loadu_ps(r1 + p + 2 * C), d);
                    a = _mm256_fmadd_ps(w6, _mm256_loadu_ps(r2 + p), a);
                    d = _mm256_fmadd_ps(w7, _mm256_loadu_ps(r2 + p + C), d);
                    a = _mm256_fmadd_ps(w8, _mm256_loadu_ps(r2 + p + 2 * C), a);
                } else {
                    a = b;
                    d = zero;
                    const __m256 taps[9] = {w0, w1, w2, w3, w4, w5, w6, w7, w8};
                    const float *rs[3] = {r0, r1, r2};
                    for (int kw = 0; kw < 3; kw++) {
                        if (iw + kw < 0 || iw + kw >= W) continue;
                        for (int kh = 0; kh < 3; kh++)
                            a = _mm256_fmadd_ps(taps[kh * 3 + kw], _mm256_loadu_ps(rs[kh] + (size_t)(iw + kw) * C), a);
                    }
                }
                _mm256_storeu_ps(outRow + (size_t)ow * C + cb, _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(a, d), lo), hi));
            }
        }
    }
}

// Pointwise micro-kernels: a tile of up to 6 rows × 16 columns of y in twelve registers, bias added first and the
// clamp applied before the store.
//   NCHW: a = W packed as [k][6] (zero rows past m), b = one packed panel of x [k][16] (zero columns past n).
AVX2_INLINE void tile_nchw(const int wide, const float *a, const float *b, int k, const float *bias6, float *y, size_t ldy, int rows, int cols, __m256 lo, __m256 hi) {
    __m256 c[6][2];
    for (int r = 0; r < 6; r++) c[r][0] = c[r][1] = _mm256_set1_ps(bias6[r]);
    for (int p = 0; p < k; p++) {
        const __m256 b0 = _mm256_loadu_ps(b + p * 16);
        const __m256 b1 = wide ? _mm256_loadu_ps(b + p * 16 + 8) : b0;
        for (int r = 0; r < 6; r++) {
            const __m256 v = _mm256_broadcast_ss(a + p * 6 + r);
            c[r][0] = _mm256_fmadd_ps(v, b0, c[r][0]);
            if (wide) c[r][1] = _mm256_fmadd_ps(v, b1, c[r][1]);
        }
    }
    for (int r = 0; r < 6; r++) {
        if (r >= rows) break;
        float *row = y + r * ldy;
        const __m256 v0 = _mm256_min_ps(_mm256_max_ps(c[r][0], lo), hi);
        if (cols == 16) {
            _mm256_storeu_ps(row, v0);
            _mm256_storeu_ps(row + 8, _mm256_min_ps(_mm256_max_ps(c[r][1], lo), hi));
        } else {
            store_first(row, v0, cols);
            if (wide) store_first(row + 8, _mm256_min_ps(_mm256_max_ps(c[r][1], lo), hi), cols - 8);
        }
    }
}

AVX2 static void pointwise_nchw_avx2(const float *packed, const float *bias, const float *x, float *y, int m, int k, int n, float low, float high, float *panel) {
    const __m256 lo = _mm256_set1_ps(low), hi = _mm256_set1_ps(high);
    for (int j0 = 0; j0 < n; j0 += 16) {
        const int cols = n - j0 < 16 ? n - j0 : 16;
        if (cols == 16) {
            const int ahead = j0 + 48 < n ? 32 : 0;  // the lines of a later panel, one per row of x: fetched early
            for (int p = 0; p < k; p++) {
                const float *from = x + (size_t)p * n + j0;
                if (ahead) _mm_prefetch((const char *)(from + ahead), _MM_HINT_T0);
                _mm256_storeu_ps(panel + p * 16, _mm256_loadu_ps(from));
                _mm256_storeu_ps(panel + p * 16 + 8, _mm256_loadu_ps(from + 8));
            }
        } else {
            for (int p = 0; p < k; p++)
                for (int j = 0; j < 16; j++) panel[p * 16 + j] = j < cols ? x[(size_t)p * n + j0 + j] : 0.0f;
        }
        for (int i0 = 0; i0 < m; i0 += 6) {
            float bias6[6];
            for (int r = 0; r < 6; r++) bias6[r] = bias && i0 + r < m ? bias[i0 + r] : 0.0f;
            // A last panel of at most eight columns takes the half-width tile.
            if (cols > 8) tile_nchw(1, packed + (size_t)i0 * k, panel, k, bias6, y + (size_t)i0 * n + j0, (size_t)n, m - i0, cols, lo, hi);
            else tile_nchw(0, packed + (size_t)i0 * k, panel, k, bias6, y + (size_t)i0 * n + j0, (size_t)n, m - i0, cols, lo, hi);
        }
    }
}

//   NHWC: a = MR rows of x (row stride k), b = a packed panel of W: [16 biases][k][16].
AVX2_INLINE void tile_nhwc(const int MR, const int wide, const float *a, size_t lda, const float *panel, int k, float *y, size_t ldy, int cols, __m256 lo, __m256 hi) {
    __m256 c[6][2];
    const __m256 bias0 = _mm256_loadu_ps(panel), bias1 = _mm256_loadu_ps(panel + 8);
    for (int r = 0; r < MR; r++) {
        c[r][0] = bias0;
        if (wide) c[r][1] = bias1;
    }
    const float *b = panel + 16;
    for (int p = 0; p < k; p++) {
        const __m256 b0 = _mm256_loadu_ps(b + p * 16);
        const __m256 b1 = wide ? _mm256_loadu_ps(b + p * 16 + 8) : b0;
        for (int r = 0; r < MR; r++) {
            const __m256 v = _mm256_broadcast_ss(a + r * lda + p);
            c[r][0] = _mm256_fmadd_ps(v, b0, c[r][0]);
            if (wide) c[r][1] = _mm256_fmadd_ps(v, b1, c[r][1]);
        }
    }
    for (int r = 0; r < MR; r++) {
        float *row = y + r * ldy;
        const __m256 v0 = _mm256_min_ps(_mm256_max_ps(c[r][0], lo), hi);
        if (cols >= 16) {
            _mm256_storeu_ps(row, v0);
            _mm256_storeu_ps(row + 8, _mm256_min_ps(_mm256_max_ps(c[r][1], lo), hi));
        } else {
            store_first(row, v0, cols);
            if (wide) store_first(row + 8, _mm256_min_ps(_mm256_max_ps(c[r][1], lo), hi), cols - 8);
        }
    }
}

AVX2_INLINE void tile_nhwc_rows(int rows, int wide, const float *a, size_t lda, const float *panel, int k, float *y, size_t ldy, int cols, __m256 lo, __m256 hi) {
    if (wide) {
        switch (rows) {
        case 6: tile_nhwc(6, 1, a, lda, panel, k, y, ldy, cols, lo, hi); break;
        case 5: tile_nhwc(5, 1, a, lda, panel, k, y, ldy, cols, lo, hi); break;
        case 4: tile_nhwc(4, 1, a, lda, panel, k, y, ldy, cols, lo, hi); break;
        case 3: tile_nhwc(3, 1, a, lda, panel, k, y, ldy, cols, lo, hi); break;
        case 2: tile_nhwc(2, 1, a, lda, panel, k, y, ldy, cols, lo, hi); break;
        default: tile_nhwc(1, 1, a, lda, panel, k, y, ldy, cols, lo, hi); break;
        }
    } else {
        switch (rows) {
        case 6: tile_nhwc(6, 0, a, lda, panel, k, y, ldy, cols, lo, hi); break;
        case 5: tile_nhwc(5, 0, a, lda, panel, k, y, ldy, cols, lo, hi); break;
        case 4: tile_nhwc(4, 0, a, lda, panel, k, y, ldy, cols, lo, hi); break;
        case 3: tile_nhwc(3, 0, a, lda, panel, k, y, ldy, cols, lo, hi); break;
        case 2: tile_nhwc(2, 0, a, lda, panel, k, y, ldy, cols, lo, hi); break;
        default: tile_nhwc(1, 0, a, lda, panel, k, y, ldy, cols, lo, hi); break;
        }
    }
}

AVX2 static void pointwise_nhwc_avx2(const float *packed, const float *x, float *y, int m, int k, int n, float low, float high) {
    const __m256 lo = _mm256_set1_ps(low), hi = _mm256_set1_ps(high);
    const size_t panelSize = (size_t)16 * (k + 1);
    // Blocks of 48 rows of x (in L2) against every panel of W.
    for (int i0 = 0; i0 < m; i0 += 48) {
        const int blockEnd = m - i0 < 48 ? m : i0 + 48;
        for (int j0 = 0; j0 < n; j0 += 16) {
            const int cols = n - j0 < 16 ? n - j0 : 16;
            const float *panel = packed + (size_t)(j0 / 16) * panelSize;
            for (int i = i0; i < blockEnd; i += 6) {
                const int rows = blockEnd - i < 6 ? blockEnd - i : 6;
                tile_nhwc_rows(rows, cols > 8, x + (size_t)i * k, (size_t)k, panel, k, y + (size_t)i * n + j0, (size_t)n, cols, lo, hi);
            }
        }
    }
}

AVX2 static void row_times_matrix_avx2(const float *a, const float *b, long ldb, int k, int n, float alpha, float beta, float *c) {
    int j0 = 0;
    for (; j0 + 64 <= n; j0 += 64) {
        __m256 acc[8];
        for (int v = 0; v < 8; v++) acc[v] = _mm256_setzero_ps();
        for (int p = 0; p < k; p++) {
            const __m256 x = _mm256_broadcast_ss(a + p);
            const float *row = b + (size_t)p * ldb + j0;
            for (int v = 0; v < 8; v++) acc[v] = _mm256_fmadd_ps(x, _mm256_loadu_ps(row + v * 8), acc[v]);
        }
        for (int v = 0; v < 8; v++) {
            __m256 r = _mm256_mul_ps(_mm256_set1_ps(alpha), acc[v]);
            if (beta != 0.0f) r = _mm256_fmadd_ps(_mm256_set1_ps(beta), _mm256_loadu_ps(c + j0 + v * 8), r);
            _mm256_storeu_ps(c + j0 + v * 8, r);
        }
    }
    for (; j0 < n; j0 += 8) {
        const int count = n - j0 < 8 ? n - j0 : 8;
        const __m256i mask = first_lanes(count);
        __m256 acc = _mm256_setzero_ps();
        for (int p = 0; p < k; p++)
            acc = _mm256_fmadd_ps(_mm256_broadcast_ss(a + p), _mm256_maskload_ps(b + (size_t)p * ldb + j0, mask), acc);
        __m256 r = _mm256_mul_ps(_mm256_set1_ps(alpha), acc);
        if (beta != 0.0f) r = _mm256_fmadd_ps(_mm256_set1_ps(beta), _mm256_maskload_ps(c + j0, mask), r);
        _mm256_maskstore_ps(c + j0, mask, r);
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


void moss_depthwise_nchw(const MossDepthwiseGeometry *g, const float *x, const float *filter, const float *bias, float *y, float *scratch, float low, float high) {
#ifdef MOSS_X86
    if (has_avx2()) {
        depthwise_nchw_avx2(g, x, filter, bias, y, scratch, low, high);
        return;
    }
#endif
    depthwise_nchw_generic(g, x, filter, bias, y, scratch, low, high);
}

void moss_depthwise_nhwc(const MossDepthwiseGeometry *g, const float *x, const float *filter, const float *bias, float *y, float low, float high) {
#ifdef MOSS_X86
    if (has_avx2()) {
        depthwise_nhwc_avx2(g, x, filter, bias, y, low, high);
        return;
    }
#endif
    depthwise_nhwc_generic(g, x, filter, bias, y, low, high);
}

int moss_pointwise_available(void) { return has_avx2(); }

long moss_pointwise_nchw_packed_count(int m, int k) { return (long)(m + 5) / 6 * 6 * k; }

void moss_pointwise_nchw_pack(const float *w, int m, int k, float *packed) {
    for (int i0 = 0; i0 < m; i0 += 6)
        for (int p = 0; p < k; p++)
            for (int r = 0; r < 6; r++) *packed++ = i0 + r < m ? w[(size_t)(i0 + r) * k + p] : 0.0f;
}

long moss_pointwise_nchw_scratch(int k) { return (long)k * 16; }

long moss_pointwise_nhwc_packed_count(int k, int n) { return (long)(n + 15) / 16 * 16 * (k + 1); }

void moss_pointwise_nhwc_pack(const float *w, const float *bias, int k, int n, float *packed) {
    // Each panel: the 16 biases, then k rows of 16 weights.
    for (int j0 = 0; j0 < n; j0 += 16) {
        for (int j = 0; j < 16; j++) *packed++ = j0 + j < n && bias ? bias[j0 + j] : 0.0f;
        for (int p = 0; p < k; p++)
            for (int j = 0; j < 16; j++) *packed++ = j0 + j < n ? w[(size_t)p * n + j0 + j] : 0.0f;
    }
}

void moss_pointwise_nchw(const float *packed, const float *bias, const float *x, float *y, int m, int k, int n, float low, float high, float *scratch) {
#ifdef MOSS_X86
    if (has_avx2()) {
        pointwise_nchw_avx2(packed, bias, x, y, m, k, n, low, high, scratch);
        return;
    }
#endif
    // Portable: straight from the packed panels.
    for (int i0 = 0; i0 < m; i0 += 6) {
        const float *a = packed + (size_t)i0 * k;
        for (int r = 0; r < 6 && i0 + r < m; r++) {
            float *row = y + (size_t)(i0 + r) * n;
            const float b = bias ? bias[i0 + r] : 0.0f;
            for (int j = 0; j < n; j++) row[j] = b;
            for (int p = 0; p < k; p++) {
                const float weight = a[p * 6 + r], *source = x + (size_t)p * n;
                for (int j = 0; j < n; j++) row[j] += weight * source[j];
            }
            for (int j = 0; j < n; j++) row[j] = clamp_scalar(row[j], low, high);
        }
    }
}

void moss_pointwise_nhwc(const float *packed, const float *x, float *y, int m, int k, int n, float low, float high) {
#ifdef MOSS_X86
    if (has_avx2()) {
        pointwise_nhwc_avx2(packed, x, y, m, k, n, low, high);
        return;
    }
#endif
    for (int i = 0; i < m; i++) {
        float *row = y + (size_t)i * n;
        const float *source = x + (size_t)i * k;
        for (int j0 = 0; j0 < n; j0 += 16) {
            const float *panel = packed + (size_t)(j0 / 16) * 16 * (k + 1);
            const int width = n - j0 < 16 ? n - j0 : 16;
            for (int j = 0; j < width; j++) row[j0 + j] = panel[j];
            for (int p = 0; p < k; p++)
                for (int j = 0; j < width; j++) row[j0 + j] += source[p] * panel[16 + p * 16 + j];
            for (int j = 0; j < width; j++) row[j0 + j] = clamp_scalar(row[j0 + j], low, high);
        }
    }
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

int moss_row_times_matrix(const float *a, const float *b, long ldb, int k, int n, float alpha, float beta, float *c) {
#ifdef MOSS_X86
    if (has_avx2()) {
        row_times_matrix_avx2(a, b, ldb, k, n, alpha, beta, c);
        return 1;
    }
#endif
    (void)a, (void)b, (void)ldb, (void)k, (void)n, (void)alpha, (void)beta, (void)c;
    return 0;
}

const char *moss_kernels_variant(void) { return has_avx2() ? "avx2" : "generic"; }
