/*
 * divergence.c - KL divergence: PyTorch's pointwise kl_div with its gradient, and the
 * divergence of probability rows.
 *
 * The kernels are in divergence_impl.h, included once for float and once for double,
 * with the vectorizable exp and log of fl_common.h.
 */
#include "fl_common.h"

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
