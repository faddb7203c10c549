/*
 * landscape.c - the loss of a multilayer perceptron at every point of a plane of
 * parameter vectors theta + alpha d1 + beta d2 (see landscape.h). The grid kernel is in
 * landscape_impl.h, included once for float and once for double.
 *
 * Where the time goes: for a 2-64-64-3 network on 10,000 samples, each grid point is
 * ~41 M multiply-adds of the 64x64 layer; everything else (the first layer, the
 * activations, the loss) is a few percent. So the dense layers run through a
 * register-blocked tile (ROWS rows x WIDE columns of accumulators, the column loop
 * vectorized) over chunks of FL_LANDSCAPE_CHUNK samples whose activations stay in L1.
 */
#include "fl_common.h"

/* Samples per chunk: two chunk buffers of 64 columns take 2 x 16 KiB in float. */
#define FL_LANDSCAPE_CHUNK 64
/* Rows of a tile: ROWS x WIDE accumulators fill about half of the 32 vector registers
 * of AVX-512 (16 of AVX2), leaving room for the loads and broadcasts. */
#define FL_DENSE_TILE_ROWS 8

/* n rounded up to a multiple of m: scratch segments start on 64-byte lines, padded
 * layer widths hold whole tiles. */
static ptrdiff_t fl_round_up(ptrdiff_t n, ptrdiff_t m)
{
    return (n + m - 1) / m * m;
}

static int fl_mlp_ok(const fl_mlp *net)
{
    if (!net || net->n_layers < 1 || !net->widths || !net->weight_offsets
        || !net->bias_offsets || !net->activations || !net->slopes)
        return 0;
    for (int l = 0; l <= net->n_layers; l++)
        if (net->widths[l] < 1)
            return 0;
    for (int l = 0; l < net->n_layers; l++)
        if (net->weight_offsets[l] < 0 || net->bias_offsets[l] < -1
            || net->activations[l] < FL_ACT_IDENTITY || net->activations[l] > FL_ACT_GELU_TANH)
            return 0;
    return 1;
}

#define REAL float
#define SFX f32
#define WIDE 32   /* columns of a tile: two 512-bit or four 256-bit vectors */
#define NARROW 8  /* columns of the tiles of narrow layers (a 3-class output) */
#define EXP_NONPOS fl_expf_nonpos
#define EXPM1_NONPOS fl_expm1f_nonpos
#define LOG fl_logf
#define ERFC erfcf
#define COPYSIGN copysignf
#include "landscape_impl.h"
#undef REAL
#undef SFX
#undef WIDE
#undef NARROW
#undef EXP_NONPOS
#undef LOG
#undef ERFC
#undef EXPM1_NONPOS
#undef COPYSIGN

#define REAL double
#define SFX f64
#define WIDE 16
#define NARROW 4
#define EXP_NONPOS fl_exp_nonpos
#define EXPM1_NONPOS fl_expm1_nonpos
#define LOG fl_log
#define ERFC erfc
#define COPYSIGN copysign
#include "landscape_impl.h"
#undef REAL
#undef SFX
#undef WIDE
#undef NARROW
#undef EXP_NONPOS
#undef LOG
#undef ERFC
#undef EXPM1_NONPOS
#undef COPYSIGN
