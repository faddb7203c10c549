/*
 * divergence.c - KL divergence: PyTorch's pointwise kl_div with its gradient, and the
 * divergence of probability rows.
 *
 * The vectorizable log lives here; the kernels are in divergence_impl.h, included once
 * for float and once for double.
 */
#include "fl_common.h"

/* ---- log without libm, in straight-line code the compiler vectorizes ---------------
 *
 * The reduction and polynomials of fdlibm's e_log.c / e_logf.c (as in musl):
 * x = 2^k (1 + f), 1 + f in [sqrt(2)/2, sqrt(2)), read from the bits; s = f / (2 + f),
 * log(1 + f) = f - f^2/2 + s (f^2/2 + R(s^2)) with R a minimax polynomial (error below
 * 2^-58.45 in double, 2^-34.24 in float), log 2 split in a high part exact in k ln2_hi.
 * Subnormal inputs are scaled by 2^54 (2^23) first; the special inputs are patched in
 * with selects, so no branch stops vectorization. Measured error over the whole range
 * (tests/test_divergence.py): below 1 ulp in both types (0.75 ulp seen).
 */
static inline float fl_logf(float x)
{
    const int subnormal = x < 1.17549435e-38f;
    const float xs = subnormal ? x * 8388608.0f : x;                 /* 2^23 */
    const uint32_t ix = fl_f32_to_bits(xs) + (0x3f800000u - 0x3f3504f3u);
    const int32_t k = (int32_t)(ix >> 23) - 0x7f - (subnormal ? 23 : 0);
    const float f = fl_bits_to_f32((ix & 0x007fffffu) + 0x3f3504f3u) - 1.0f;
    const float s = f / (2.0f + f);
    const float z = s * s, w = z * z;
    const float R = z * (0.66666662693f + w * 0.28498786688f)
                  + w * (0.40000972152f + w * 0.24279078841f);
    const float hfsq = 0.5f * f * f;
    const float kf = (float)k;
    const float r = s * (hfsq + R) + kf * 9.0580006145e-06f - hfsq + f + kf * 6.9313812256e-01f;
    const float finite = x == INFINITY ? x : r;
    return x > 0.0f ? finite : (x == 0.0f ? -INFINITY : NAN);
}

static inline double fl_log(double x)
{
    const int subnormal = x < 2.2250738585072014e-308;
    const double xs = subnormal ? x * 18014398509481984.0 : x;       /* 2^54 */
    const uint64_t hi_offset = (uint64_t)(0x3ff00000u - 0x3fe6a09eu) << 32;
    const uint64_t ix = fl_f64_to_bits(xs) + hi_offset;
    const int32_t k = (int32_t)(ix >> 52) - 0x3ff - (subnormal ? 54 : 0);
    const double f =
        fl_bits_to_f64((ix & 0x000fffffffffffffull) + ((uint64_t)0x3fe6a09eu << 32)) - 1.0;
    const double s = f / (2.0 + f);
    const double z = s * s, w = z * z;
    const double t1 = w * (3.999999999940941908e-01
                      + w * (2.222219843214978396e-01 + w * 1.531383769920937332e-01));
    const double t2 = z * (6.666666666666735130e-01
                      + w * (2.857142874366239149e-01
                      + w * (1.818357216161805012e-01 + w * 1.479819860511658591e-01)));
    const double hfsq = 0.5 * f * f;
    const double kd = (double)k;
    const double r = s * (hfsq + t1 + t2) + kd * 1.90821492927058770002e-10 - hfsq + f
                   + kd * 6.93147180369123816490e-01;
    const double finite = x == INFINITY ? x : r;
    return x > 0.0 ? finite : (x == 0.0 ? -INFINITY : NAN);
}

FL_HOT void fl_log_f32(const float *x, ptrdiff_t n, float *out)
{
    FL_SIMD
    for (ptrdiff_t i = 0; i < n; i++)
        out[i] = fl_logf(x[i]);
}

FL_HOT void fl_log_f64(const double *x, ptrdiff_t n, double *out)
{
    FL_SIMD
    for (ptrdiff_t i = 0; i < n; i++)
        out[i] = fl_log(x[i]);
}

#define REAL float
#define SFX f32
#define LOG fl_logf
#define EXP fl_expf
#include "divergence_impl.h"
#undef REAL
#undef SFX
#undef LOG
#undef EXP

#define REAL double
#define SFX f64
#define LOG fl_log
#define EXP fl_exp
#include "divergence_impl.h"
#undef REAL
#undef SFX
#undef LOG
#undef EXP
