/*
 * optim.c - optimizer steps and gradient clipping over a list of arrays (an
 * fl_array_table, walked in fixed blocks that straddle arrays, see fl_common.h).
 *
 * The kernels are in optim_impl.h, included once for float and once for double.
 */
#include "fl_common.h"

/* What one walk over the table does to each run of elements. */
enum optim_op {
    OP_SGD, OP_ADAGRAD, OP_RMSPROP, OP_ADAM,   /* parameter updates */
    OP_SUM_SQ, OP_SUM_ABS, OP_SUM_POW, OP_MAX_ABS, OP_NONFINITE,  /* reductions */
    OP_SCALE, OP_CLAMP                          /* gradient rewrites */
};

/* State columns after the parameters and gradients: at most v, m, v_max. */
#define OPTIM_MAX_COLUMNS 5

#define REAL float
#define SQRT sqrtf
#define SFX f32
#include "optim_impl.h"
#undef REAL
#undef SQRT
#undef SFX

#define REAL double
#define SQRT sqrt
#define SFX f64
#include "optim_impl.h"
#undef REAL
#undef SQRT
#undef SFX
