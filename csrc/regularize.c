/*
 * regularize.c - L1 / L2 / elastic-net penalties over a list of arrays (an
 * fl_array_table, walked with the helpers of fl_common.h).
 *
 * The type-independent parts live here; the kernels are in regularize_impl.h, which
 * this file includes once for float and once for double.
 */
#include "fl_common.h"

#define REAL float
#define SFX f32
#include "regularize_impl.h"
#undef REAL
#undef SFX

#define REAL double
#define SFX f64
#include "regularize_impl.h"
#undef REAL
#undef SFX
