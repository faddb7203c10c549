/*
 * elementwise.c - regression and binary classification losses, entry by entry.
 *
 * The kernels are in elementwise_impl.h, included once for float and once for double.
 */
#include "fl_common.h"

/* What a pass saw, beside the value (ORed over entries). */
enum { FL_EW_BAD_INPUT = 1, FL_EW_BAD_TARGET = 2, FL_EW_ZERO = 4, FL_EW_MINUS_ONE = 8 };

/* How a stretch reads the positive weight of BCE with logits. */
enum { FL_PW_NONE = 0, FL_PW_SCALAR = 1, FL_PW_ARRAY = 2 };

/* q(z) with 2 atanh(s) = 2s (1 + z q(z)), z = s^2 in [0, 1/9] (the BCE-with-logits
 * kernel takes s = e / (2 + e) with e = exp(-|x|) in [0, 1]).
 *   float: a cubic fitted here by least squares reweighted towards the minimax relative
 *          error of the result: 4.5e-9, below float rounding;
 *   double: the Taylor series 1/3 + z/5 + ... + z^15/33 (truncation below 1e-17). */
static inline float fl_atanh_q_f32(float z)
{
    return ((0.14005892f * z + 0.14000922f) * z + 0.20010762f) * z + 0.33333209f;
}

static inline double fl_atanh_q_f64(double z)
{
    double q = 1.0 / 33.0;
    for (int k = 15; k >= 1; k--)
        q = q * z + 1.0 / (2 * k + 1);
    return q;
}

#define REAL float
#define SFX f32
#define EXP_NONPOS fl_expf_nonpos
#define LOG fl_logf
#define LOG1P fl_log1pf_unit
#define ATANH_Q fl_atanh_q_f32
#include "elementwise_impl.h"
#undef REAL
#undef SFX
#undef EXP_NONPOS
#undef LOG
#undef LOG1P
#undef ATANH_Q

#define REAL double
#define SFX f64
#define EXP_NONPOS fl_exp_nonpos
#define LOG fl_log
#define LOG1P fl_log1p_unit
#define ATANH_Q fl_atanh_q_f64
#include "elementwise_impl.h"
#undef REAL
#undef SFX
#undef EXP_NONPOS
#undef LOG
#undef LOG1P
#undef ATANH_Q
