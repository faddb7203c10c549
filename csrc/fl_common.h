/*
 * fl_common.h - internal helpers shared by the kernel sources: SIMD dispatch, the
 * vectorizable exp, and the fixed row blocking that keeps reductions deterministic.
 */
#ifndef FL_COMMON_H
#define FL_COMMON_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "fastloss.h"

#ifdef _OPENMP
#include <omp.h>
#endif

#if defined(_OPENMP) || defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 6)
#define FL_PRAGMA(x) _Pragma(#x)
#else
#define FL_PRAGMA(x)
#endif

/* `omp simd` (with a reduction clause where needed) lets the compiler vectorize float
 * reductions without -ffast-math: it may reorder a sum across SIMD lanes, in a fixed
 * order for a given code path. */
#define FL_SIMD FL_PRAGMA(omp simd)

/*
 * Runtime dispatch: on x86-64 with GCC, the hot row loops are compiled three times
 * (baseline SSE2, x86-64-v3 = AVX2+FMA, x86-64-v4 = AVX-512) and the loader picks the
 * best one the CPU has. A wheel built this way runs on any x86-64 machine.
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12 \
    && defined(__linux__)
#define FL_HOT __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#define FL_DISPATCH 1
#else
#define FL_HOT
#define FL_DISPATCH 0
#endif

#define FL_INLINE static inline __attribute__((always_inline))

/* Rows are grouped into at most FL_MAX_BLOCKS blocks of equal size; block sums are
 * added in block order, so the grouping never depends on the thread count. */
#define FL_MAX_BLOCKS 256

/* The same for a flat range of n entries: at most FL_MAX_BLOCKS blocks of at least
 * FL_MIN_FLAT_BLOCK entries (a multiple of 64, so blocks start SIMD-aligned when the
 * array does). */
#define FL_MIN_FLAT_BLOCK 4096
static inline ptrdiff_t fl_flat_block(ptrdiff_t n)
{
    ptrdiff_t b = (n + FL_MAX_BLOCKS - 1) / FL_MAX_BLOCKS;
    b = (b + 63) / 64 * 64;
    return b > FL_MIN_FLAT_BLOCK ? b : FL_MIN_FLAT_BLOCK;
}

/* A row is processed in chunks that stay in L1 while they are read several times;
 * a row has at most FL_MAX_CHUNKS chunks, so per-chunk state fits on the stack. */
#define FL_CHUNK 2048
#define FL_MAX_CHUNKS 512

/* Rows of at most FL_SMALL_ROW entries go through the tiled kernels of softmax_impl.h,
 * FL_TILE_ROWS rows at a time. */
#define FL_SMALL_ROW 32
#define FL_TILE_ROWS 16

/* Tiles are transposed with two-vector shuffles where the compiler has
 * __builtin_shufflevector (GCC 12 and later, clang), entry by entry elsewhere (or when
 * built with -DFL_TILE_SHUFFLE=0, as CI's serial build is, to test that path); the
 * shuffles work on blocks of 16 x 16. */
#ifndef FL_TILE_SHUFFLE
#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 12)
#define FL_TILE_SHUFFLE 1
#else
#define FL_TILE_SHUFFLE 0
#endif
#endif
#if FL_TILE_SHUFFLE
_Static_assert(FL_TILE_ROWS == 16 && FL_SMALL_ROW % 16 == 0 && FL_SMALL_ROW <= 32,
               "the tile shuffles transpose 16 x 16 blocks, at most two per row");
#endif

/* Elements of size `size` from p to the next 64-byte boundary (0 when p is on one, or
 * when p is not aligned to `size` and no element boundary meets it). */
static inline ptrdiff_t fl_misalignment(const void *p, size_t size)
{
    const uintptr_t a = (uintptr_t)p;
    return a % size != 0 ? 0 : (ptrdiff_t)((64 - a % 64) % 64 / size);
}

/* Work of a row kernel in element equivalents: each row also costs about as much as
 * FL_ROW_COST entries (its reductions, a log), which matters for short rows. */
#define FL_ROW_COST 32.0
static inline double fl_row_work(ptrdiff_t n_rows, ptrdiff_t n_cols)
{
    return (double)n_rows * ((double)n_cols + FL_ROW_COST);
}

static inline ptrdiff_t fl_block_rows(ptrdiff_t n_rows)
{
    ptrdiff_t b = (n_rows + FL_MAX_BLOCKS - 1) / FL_MAX_BLOCKS;
    return b > 0 ? b : 1;
}

/* The row blocks of the softmax kernels: short rows go through tiles of FL_TILE_ROWS
 * rows, so their blocks hold whole tiles. */
static inline ptrdiff_t fl_block_rows_of(ptrdiff_t n_rows, ptrdiff_t n_cols)
{
    const ptrdiff_t b = fl_block_rows(n_rows);
    return n_cols <= FL_SMALL_ROW ? (b + FL_TILE_ROWS - 1) / FL_TILE_ROWS * FL_TILE_ROWS : b;
}

static inline ptrdiff_t fl_chunk_len(ptrdiff_t n_cols)
{
    ptrdiff_t c = (n_cols + FL_MAX_CHUNKS - 1) / FL_MAX_CHUNKS;
    c = (c + 63) / 64 * 64;
    return c > FL_CHUNK ? c : FL_CHUNK;
}

/* ---- walking an fl_array_table (fastloss.h) as one concatenated range ------------- */
/* Blocks of the concatenated range hold a multiple of this many elements (whole cache
 * lines in both types), so that a block boundary never splits a line between threads. */
#define FL_TABLE_BLOCK_ALIGN 64

/* A table the kernels can walk: sizes and addresses consistent, at most max_columns
 * columns. */
static inline int fl_table_ok(const fl_array_table *t, int max_columns)
{
    if (!t || t->n_arrays < 0 || t->n_columns < 1 || t->n_columns > max_columns
        || !t->offsets || t->offsets[0] != 0)
        return 0;
    if (t->n_arrays > 0 && !t->addresses)
        return 0;
    for (ptrdiff_t i = 0; i < t->n_arrays; i++) {
        if (t->offsets[i + 1] < t->offsets[i])
            return 0;
        for (int c = 0; c < t->n_columns && t->offsets[i + 1] > t->offsets[i]; c++)
            if (t->addresses[(ptrdiff_t)c * t->n_arrays + i] == 0)
                return 0;
    }
    return 1;
}

/* Elements per block: at most FL_MAX_BLOCKS blocks over the whole range, a size that
 * depends on the total only, so the summation order never depends on the threads. */
static inline ptrdiff_t fl_table_block_len(ptrdiff_t total)
{
    ptrdiff_t b = (total + FL_MAX_BLOCKS - 1) / FL_MAX_BLOCKS;
    b = (b + FL_TABLE_BLOCK_ALIGN - 1) / FL_TABLE_BLOCK_ALIGN * FL_TABLE_BLOCK_ALIGN;
    return b > 0 ? b : FL_TABLE_BLOCK_ALIGN;
}

/* The array holding element `pos` of the concatenated range (pos < total): the last i
 * with offsets[i] <= pos, which skips empty arrays. Binary search: a block start
 * costs O(log n_arrays) however many small arrays precede it. */
static inline ptrdiff_t fl_table_array_at(const fl_array_table *t, ptrdiff_t pos)
{
    ptrdiff_t lo = 0, hi = t->n_arrays;  /* offsets[lo] <= pos < offsets[hi] */
    while (hi - lo > 1) {
        const ptrdiff_t mid = lo + (hi - lo) / 2;
        if (t->offsets[mid] <= pos)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static inline int64_t fl_label_at(const fl_class_target *t, ptrdiff_t i)
{
    return t->labels_int64 ? ((const int64_t *)t->labels)[i]
                           : (int64_t)((const int32_t *)t->labels)[i];
}

/* ---- exp without libm, in straight-line code the compiler vectorizes ----------------
 *
 * exp(x) = 2^k * exp(r), k = round(x / ln 2), r = x - k ln 2, |r| <= ln(2)/2, with
 * ln 2 split Cody-Waite style (k * ln2_hi is exact). k is read from the bits of
 * x / ln 2 + 1.5 * 2^p: round-to-nearest with no float->int conversion, so NaN is
 * harmless. exp(r) = 1 + r q(r) is exactly 1 at r = 0, so exp(0) == 1 exactly (the
 * softmax kernels count the entries equal to the row max that way).
 *   float:  q of degree 5, fitted here for minimal relative error on |r| <= ln(2)/2
 *           (approximation error 2.1e-9);
 *   double: Taylor polynomial of degree 13 (truncation error < 6e-18).
 * Measured over the whole range (tests/test_fast_exp.py): <= 2 ulp in both types for
 * results >= the smallest normal number; smaller results may be flushed to 0 (an
 * absolute error below 1.2e-38 in float, 2.3e-308 in double, irrelevant to a
 * probability). exp(NaN) = NaN, exp(-inf) = 0, exp(x) = +inf past the overflow point.
 * The kernels only take exp(x - max) <= 0 and call the cheaper *_nonpos forms, which
 * give the same bits on that domain (tested).
 */
static inline float fl_bits_to_f32(uint32_t b) { float f; memcpy(&f, &b, 4); return f; }
static inline uint32_t fl_f32_to_bits(float f) { uint32_t b; memcpy(&b, &f, 4); return b; }
static inline double fl_bits_to_f64(uint64_t b) { double f; memcpy(&f, &b, 8); return f; }
static inline uint64_t fl_f64_to_bits(double f) { uint64_t b; memcpy(&b, &f, 8); return b; }

/* exp(x) = 2^k exp(r) = 2^k (1 + r q(r)): fl_expf_rq gives q(r), r and k for x already
 * clamped; fl_expf_reduced gives exp(r). For NaN x the bits behind k are garbage, but
 * every later step is defined and the NaN propagates. */
static inline float fl_expf_rq(float x, int32_t *k, float *r_out)
{
    const float magic = 12582912.0f; /* 1.5 * 2^23 */
    const float t = x * 1.44269504088896341f + magic;
    const float kf = t - magic;
    float r = x - kf * 0.693359375f; /* ln2_hi: 8 significant bits */
    r = r - kf * -2.12194440e-4f;    /* ln2_lo */
    float q = 1.38427119e-3f;
    q = q * r + 8.37496482e-3f;
    q = q * r + 4.16680574e-2f;
    q = q * r + 1.66664213e-1f;
    q = q * r + 4.99999940e-1f;
    q = q * r + 1.0f;
    *k = (int32_t)(fl_f32_to_bits(t) - fl_f32_to_bits(magic));
    *r_out = r;
    return q;
}

static inline float fl_expf_reduced(float x, int32_t *k)
{
    float r;
    const float q = fl_expf_rq(x, k, &r);
    return q * r + 1.0f;
}

/* exp(x) for x <= 0, -inf and NaN: what the softmax kernels need (x - max). Half the
 * cost of the full range: one clamp, and 2^k is always a normal number or +0. */
static inline float fl_expf_nonpos(float x)
{
    int32_t k;
    x = x < -88.0f ? -88.0f : x;     /* k = -127: the scale 2^k becomes +0 */
    const float p = fl_expf_reduced(x, &k);
    return p * fl_bits_to_f32((uint32_t)(k + 127) << 23);
}

/* exp(x) on the whole range. */
static inline float fl_expf(float x)
{
    int32_t k;
    x = x < -88.0f ? -88.0f : x;
    x = x > 89.0f ? 89.0f : x;       /* exp(89) > FLT_MAX: the product overflows to inf */
    const float p = fl_expf_reduced(x, &k);
    /* k = 128 (x in [88.38, 89]) has no float 2^k: use 2 * 2^127 */
    const float p2 = k > 127 ? p * 2.0f : p;
    const int32_t k2 = k > 127 ? 127 : k;
    return p2 * fl_bits_to_f32((uint32_t)(k2 + 127) << 23);
}

static inline double fl_exp_rq(double x, int64_t *k, double *r_out)
{
    const double magic = 6755399441055744.0; /* 1.5 * 2^52 */
    const double t = x * 1.4426950408889634074 + magic;
    const double kf = t - magic;
    double r = x - kf * 6.93147180369123816490e-01; /* ln2_hi: kf * ln2_hi exact */
    r = r - kf * 1.90821492927058770002e-10;        /* ln2_lo */
    double q = 1.0 / 6227020800.0;
    q = q * r + 1.0 / 479001600.0;
    q = q * r + 1.0 / 39916800.0;
    q = q * r + 1.0 / 3628800.0;
    q = q * r + 1.0 / 362880.0;
    q = q * r + 1.0 / 40320.0;
    q = q * r + 1.0 / 5040.0;
    q = q * r + 1.0 / 720.0;
    q = q * r + 1.0 / 120.0;
    q = q * r + 1.0 / 24.0;
    q = q * r + 1.0 / 6.0;
    q = q * r + 0.5;
    q = q * r + 1.0;
    *k = (int64_t)(fl_f64_to_bits(t) - fl_f64_to_bits(magic));
    *r_out = r;
    return q;
}

static inline double fl_exp_reduced(double x, int64_t *k)
{
    double r;
    const double q = fl_exp_rq(x, k, &r);
    return q * r + 1.0;
}

static inline double fl_exp_nonpos(double x)
{
    int64_t k;
    x = x < -709.0 ? -709.0 : x;     /* k = -1023: the scale becomes +0 */
    const double p = fl_exp_reduced(x, &k);
    return p * fl_bits_to_f64((uint64_t)(k + 1023) << 52);
}

static inline double fl_exp(double x)
{
    int64_t k;
    x = x < -709.0 ? -709.0 : x;
    x = x > 710.0 ? 710.0 : x;       /* exp(710) > DBL_MAX: the product overflows to inf */
    const double p = fl_exp_reduced(x, &k);
    const double p2 = k > 1023 ? p * 2.0 : p;
    const int64_t k2 = k > 1023 ? 1023 : k;
    return p2 * fl_bits_to_f64((uint64_t)(k2 + 1023) << 52);
}

/*
 * expm1(x) for x <= 0, -inf and NaN, from the same reduction: with exp(x) = 2^k (1 + p),
 * p = r q(r),  expm1(x) = 2^k p + (2^k - 1),  which is p itself (full relative accuracy
 * near 0) for |x| <= ln(2)/2, and has no cancellation where k < 0. tanh needs it:
 * tanh|v| = -expm1(-2|v|) / (2 + expm1(-2|v|)) stays accurate for tiny v, where
 * (1 - e) / (1 + e) would not.
 */
static inline float fl_expm1f_nonpos(float x)
{
    int32_t k;
    float r;
    x = x < -88.0f ? -88.0f : x;     /* k = -127: the scale becomes +0, expm1 = -1 */
    const float q = fl_expf_rq(x, &k, &r);
    const float scale = fl_bits_to_f32((uint32_t)(k + 127) << 23);
    return scale * (q * r) + (scale - 1.0f);
}

static inline double fl_expm1_nonpos(double x)
{
    int64_t k;
    double r;
    x = x < -709.0 ? -709.0 : x;
    const double q = fl_exp_rq(x, &k, &r);
    const double scale = fl_bits_to_f64((uint64_t)(k + 1023) << 52);
    return scale * (q * r) + (scale - 1.0);
}

/* ---- log without libm, in straight-line code the compiler vectorizes ----------------
 *
 * log(x) = k ln 2 + log(m) with x = 2^k m, m in [sqrt(2)/2, sqrt(2)): adding
 * (1 - sqrt(2)/2) in the bit pattern makes the exponent field round at sqrt(2), so k
 * and m come from integer operations alone. Then log(m) = 2 atanh(s), s = (m-1)/(m+1),
 * |s| <= 0.1716, by its odd series in s (float to s^11, double to s^23: truncation
 * below 2e-9 and 6e-19 relative). Subnormal x is scaled into the normal range first;
 * log(0) = -inf, log(x < 0) = NaN, log(inf) = inf, log(NaN) = NaN.
 * Measured over the whole range (tests/test_fast_exp.py): <= 2 ulp in both types.
 * log1p(x) for x in [-1, 64] (the softmax kernels take log1p(S - 1) of sums S of up
 * to 32 exponentials) uses u = 1 + x and log1p(x) = log(u) * x / (u - 1), which cancels
 * the rounding error of u (exact when u == 1: log1p(x) = x); within 4 ulp there.
 */
static inline float fl_logf(float x)
{
    const int tiny = x < 1.17549435e-38f;               /* FLT_MIN; also 0, < 0, NaN: no */
    const float xs = tiny ? x * 33554432.0f : x;       /* 2^25 */
    const uint32_t ix = fl_f32_to_bits(xs) + (0x3f800000u - 0x3f3504f3u);
    const int32_t k = (int32_t)(ix >> 23) - 127 - (tiny ? 25 : 0);
    const float m = fl_bits_to_f32((ix & 0x007fffffu) + 0x3f3504f3u);
    const float s = (m - 1.0f) / (m + 1.0f);
    const float z = s * s;
    float q = 2.0f / 11.0f;
    q = q * z + 2.0f / 9.0f;
    q = q * z + 2.0f / 7.0f;
    q = q * z + 2.0f / 5.0f;
    q = q * z + 2.0f / 3.0f;
    const float kf = (float)k;
    float r = kf * 0.693359375f + ((2.0f * s + s * (z * q)) + kf * -2.12194440e-4f);
    r = x == 0.0f ? -INFINITY : r;
    r = x < 0.0f ? NAN : r;
    r = x == INFINITY ? INFINITY : r;
    return x != x ? x : r;
}

static inline double fl_log(double x)
{
    const int tiny = x < 2.2250738585072014e-308;      /* DBL_MIN */
    const double xs = tiny ? x * 18014398509481984.0 : x; /* 2^54 */
    const uint64_t ix = fl_f64_to_bits(xs) + (0x3ff0000000000000ull - 0x3fe6a09e667f3bcdull);
    const int64_t k = (int64_t)(ix >> 52) - 1023 - (tiny ? 54 : 0);
    const double m = fl_bits_to_f64((ix & 0x000fffffffffffffull) + 0x3fe6a09e667f3bcdull);
    const double s = (m - 1.0) / (m + 1.0);
    const double z = s * s;
    double q = 2.0 / 23.0;
    q = q * z + 2.0 / 21.0;
    q = q * z + 2.0 / 19.0;
    q = q * z + 2.0 / 17.0;
    q = q * z + 2.0 / 15.0;
    q = q * z + 2.0 / 13.0;
    q = q * z + 2.0 / 11.0;
    q = q * z + 2.0 / 9.0;
    q = q * z + 2.0 / 7.0;
    q = q * z + 2.0 / 5.0;
    q = q * z + 2.0 / 3.0;
    const double kf = (double)k;
    double r = kf * 6.93147180369123816490e-01
               + ((2.0 * s + s * (z * q)) + kf * 1.90821492927058770002e-10);
    r = x == 0.0 ? -INFINITY : r;
    r = x < 0.0 ? NAN : r;
    r = x == INFINITY ? INFINITY : r;
    return x != x ? x : r;
}

static inline float fl_log1pf_unit(float x)
{
    const float u = 1.0f + x;
    return u == 1.0f ? x : fl_logf(u) * (x / (u - 1.0f));
}

static inline double fl_log1p_unit(double x)
{
    const double u = 1.0 + x;
    return u == 1.0 ? x : fl_log(u) * (x / (u - 1.0));
}

#endif /* FL_COMMON_H */
