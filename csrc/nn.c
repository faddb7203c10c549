/*
 * nn.c - the elementwise half of network layers: bias + activation, forward and
 * backward fused into one pass each (the matrix products stay in BLAS, called from
 * Python). The row kernels are in nn_impl.h, included once for float and once for
 * double.
 */
#include "fl_common.h"

/*
 * expm1(x) for x <= 0, -inf and NaN, without libm: the reduction of fl_expf /
 * fl_exp in fl_common.h (same constants, same error bounds), kept apart from its
 * final "+ 1": with exp(x) = 2^k (1 + p), p = r q(r),
 *     expm1(x) = 2^k p + (2^k - 1),
 * which is p itself (relative accuracy near 0) for k = 0, i.e. |x| <= ln(2)/2, and has
 * no cancellation for the larger |x| where k < 0. tanh needs it: tanh|v| =
 * -expm1(-2|v|) / (2 + expm1(-2|v|)) keeps full relative accuracy for tiny v, where
 * (1 - e) / (1 + e) would lose it.
 */
static inline float fl_expm1f_nonpos(float x)
{
    const float magic = 12582912.0f; /* 1.5 * 2^23 */
    x = x < -88.0f ? -88.0f : x;     /* k = -127: the scale becomes +0, expm1 = -1 */
    const float t = x * 1.44269504088896341f + magic;
    const float kf = t - magic;
    float r = x - kf * 0.693359375f;
    r = r - kf * -2.12194440e-4f;
    float q = 1.38427119e-3f;
    q = q * r + 8.37496482e-3f;
    q = q * r + 4.16680574e-2f;
    q = q * r + 1.66664213e-1f;
    q = q * r + 4.99999940e-1f;
    q = q * r + 1.0f;
    const int32_t k = (int32_t)(fl_f32_to_bits(t) - fl_f32_to_bits(magic));
    const float scale = fl_bits_to_f32((uint32_t)(k + 127) << 23);
    return scale * (q * r) + (scale - 1.0f);
}

static inline double fl_expm1_nonpos(double x)
{
    const double magic = 6755399441055744.0; /* 1.5 * 2^52 */
    x = x < -709.0 ? -709.0 : x;
    const double t = x * 1.4426950408889634074 + magic;
    const double kf = t - magic;
    double r = x - kf * 6.93147180369123816490e-01;
    r = r - kf * 1.90821492927058770002e-10;
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
    const int64_t k = (int64_t)(fl_f64_to_bits(t) - fl_f64_to_bits(magic));
    const double scale = fl_bits_to_f64((uint64_t)(k + 1023) << 52);
    return scale * (q * r) + (scale - 1.0);
}

/* Cost of one entry relative to a copy, for fl_plan_threads: the exp-based
 * activations are a few times dearer, the libm erfc of GELU much more. */
static double fl_activation_cost(int activation)
{
    switch (activation) {
    case FL_ACT_SIGMOID:
    case FL_ACT_TANH:
    case FL_ACT_GELU_TANH:
        return 4.0;
    case FL_ACT_GELU:
        return 16.0;
    default:
        return 1.0;
    }
}

ptrdiff_t fl_bias_act_workspace(ptrdiff_t n_rows, ptrdiff_t n_cols)
{
    const ptrdiff_t block = fl_block_rows(n_rows);
    return (n_rows + block - 1) / block * n_cols;
}

#define REAL float
#define SFX f32
#define EXP_NONPOS fl_expf_nonpos
#define EXPM1_NONPOS fl_expm1f_nonpos
#define ERFC erfcf
#define COPYSIGN copysignf
#include "nn_impl.h"
#undef REAL
#undef SFX
#undef EXP_NONPOS
#undef EXPM1_NONPOS
#undef ERFC
#undef COPYSIGN

#define REAL double
#define SFX f64
#define EXP_NONPOS fl_exp_nonpos
#define EXPM1_NONPOS fl_expm1_nonpos
#define ERFC erfc
#define COPYSIGN copysign
#include "nn_impl.h"
#undef REAL
#undef SFX
#undef EXP_NONPOS
#undef EXPM1_NONPOS
#undef ERFC
#undef COPYSIGN
