/*
 * nn.c - the elementwise half of network layers: bias + activation, forward and
 * backward fused into one pass each (the matrix products stay in BLAS, called from
 * Python). The row kernels are in nn_impl.h, included once for float and once for
 * double.
 */
#include "fl_common.h"

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
