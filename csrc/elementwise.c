/*
 * elementwise.c - regression and binary classification losses, entry by entry.
 *
 * The kernels are in elementwise_impl.h, included once for float and once for double.
 */
#include "fl_common.h"

/* What a pass saw, beside the value (ORed over entries). */
enum { FL_EW_BAD_INPUT = 1, FL_EW_BAD_TARGET = 2, FL_EW_ZERO = 4, FL_EW_MINUS_ONE = 8 };

#define REAL float
#define SFX f32
#define EXP_NONPOS fl_expf_nonpos
#define LOG fl_logf
#define LOG1P fl_log1pf_unit
#include "elementwise_impl.h"
#undef REAL
#undef SFX
#undef EXP_NONPOS
#undef LOG
#undef LOG1P

#define REAL double
#define SFX f64
#define EXP_NONPOS fl_exp_nonpos
#define LOG fl_log
#define LOG1P fl_log1p_unit
#include "elementwise_impl.h"
#undef REAL
#undef SFX
#undef EXP_NONPOS
#undef LOG
#undef LOG1P
