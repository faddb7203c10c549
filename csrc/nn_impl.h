/*
 * nn_impl.h - bias + activation kernels, written once for both types. Included by
 * nn.c with REAL (float or double), SFX (f32 or f64), EXP_NONPOS / EXPM1_NONPOS (the
 * vectorizable exp and expm1 on x <= 0), ERFC and COPYSIGN (libm, for REAL).
 *
 * Each activation is a pair of per-entry functions, act(v) and act'(v) (or act' from
 * a = act(v) where that is cheaper and as accurate); the row loops below are compiled
 * once per activation (a constant `activation` argument of an always-inlined
 * function), so every loop is branch-free and vectorizes.
 */

#define FL_CAT_(a, b) a##_##b
#define FL_CAT(a, b) FL_CAT_(a, b)
#define NAME(base) FL_CAT(base, SFX)

#include "activations_impl.h"

/* act'(v), from v or from a = act(v): sigmoid' = a (1 - a), tanh' = 1 - a^2,
 * GELU' = Phi(v) + v phi(v), tanh-GELU' = s + v s (1 - s) d(2u)/dv, s = sigmoid(2u). */
FL_INLINE REAL NAME(derivative)(REAL v, REAL a, int activation, REAL slope)
{
    switch (activation) {
    case FL_ACT_SIGMOID:
        return a * (1 - a);
    case FL_ACT_TANH:
        return (1 - a) * (1 + a);
    case FL_ACT_RELU:
        return v <= 0 ? 0 : 1;  /* PyTorch: gradient 0 at 0, passed through for NaN */
    case FL_ACT_LEAKY_RELU:
        return v > 0 ? 1 : slope;
    case FL_ACT_GELU:
        return NAME(normal_cdf)(v)
               + v * (REAL)FL_INV_SQRT_2PI * EXP_NONPOS((REAL)-0.5 * v * v);
    case FL_ACT_GELU_TANH: {
        const REAL s = NAME(sigmoid)(NAME(gelu_tanh_2u)(v));
        const REAL du = (REAL)(2 * FL_SQRT_2_PI) * (1 + (REAL)(3 * FL_GELU_CUBIC) * v * v);
        return s + v * s * (1 - s) * du;
    }
    default:
        return 1;
    }
}

/* Whether act' is read from the output a (else from v = z + bias). */
static int NAME(derivative_from_output)(int activation)
{
    return activation == FL_ACT_SIGMOID || activation == FL_ACT_TANH;
}

/* Rows [r0, r1): out = act(z + bias). */
FL_INLINE void NAME(fwd_rows)(const REAL *restrict z, const REAL *restrict bias,
                              ptrdiff_t r0, ptrdiff_t r1, ptrdiff_t n_cols, int activation,
                              REAL slope, REAL *restrict out)
{
    for (ptrdiff_t r = r0; r < r1; r++) {
        const REAL *restrict zr = z + r * n_cols;
        REAL *restrict o = out + r * n_cols;
        if (bias) {
            FL_SIMD
            for (ptrdiff_t j = 0; j < n_cols; j++)
                o[j] = NAME(activate)(zr[j] + bias[j], activation, slope);
        } else {
            FL_SIMD
            for (ptrdiff_t j = 0; j < n_cols; j++)
                o[j] = NAME(activate)(zr[j], activation, slope);
        }
    }
}

/*
 * Rows [r0, r1): grad_z = grad_out * act'(...), and acc[j] = sum over these rows of
 * grad_z[., j] in double (acc NULL: no sums). grad_z may be NULL, or alias grad_out:
 * each entry is read before it is written, at the same index (hence no restrict on
 * the pair, and `omp simd` to vectorize anyway). `src` is out for the activations that
 * read their derivative from the output, else z (plus bias).
 */
FL_INLINE void NAME(bwd_rows)(const REAL *g, const REAL *restrict src,
                              const REAL *restrict bias, ptrdiff_t r0, ptrdiff_t r1,
                              ptrdiff_t n_cols, int activation, REAL slope, REAL *gz,
                              double *restrict acc)
{
    const int from_output = NAME(derivative_from_output)(activation);
    if (acc)
        for (ptrdiff_t j = 0; j < n_cols; j++)
            acc[j] = 0.0;
    for (ptrdiff_t r = r0; r < r1; r++) {
        const REAL *gr = g + r * n_cols;
        const REAL *restrict sr = src ? src + r * n_cols : NULL;
        REAL *gzr = gz ? gz + r * n_cols : NULL;
        FL_SIMD
        for (ptrdiff_t j = 0; j < n_cols; j++) {
            REAL d = 1;
            if (activation != FL_ACT_IDENTITY) {
                const REAL s = sr[j];
                const REAL v = (bias && !from_output) ? s + bias[j] : s;
                d = NAME(derivative)(v, s, activation, slope);
            }
            const REAL dz = gr[j] * d;
            if (gzr)
                gzr[j] = dz;
            if (acc)
                acc[j] += (double)dz;
        }
    }
}

/* One block of rows of either pass, with the arguments of fwd_rows or bwd_rows. */
typedef struct NAME(pass) {
    int backward;
    const REAL *z, *bias, *src, *grad_out;
    REAL *out, *grad_z;
    double *workspace;     /* backward with a bias gradient: n_blocks x n_cols, or NULL */
    ptrdiff_t n_cols;
    REAL slope;
} NAME(pass);

FL_INLINE void NAME(pass_rows)(const NAME(pass) *p, ptrdiff_t bi, ptrdiff_t r0,
                               ptrdiff_t r1, int activation)
{
    if (p->backward)
        NAME(bwd_rows)(p->grad_out, p->src, p->bias, r0, r1, p->n_cols, activation,
                       p->slope, p->grad_z,
                       p->workspace ? p->workspace + bi * p->n_cols : NULL);
    else
        NAME(fwd_rows)(p->z, p->bias, r0, r1, p->n_cols, activation, p->slope, p->out);
}

/* The switch picks a copy of the row loops compiled for one constant activation. */
FL_HOT static void NAME(pass_block)(const NAME(pass) *p, ptrdiff_t bi, ptrdiff_t r0,
                                    ptrdiff_t r1, int activation)
{
    switch (activation) {
    case FL_ACT_SIGMOID:
        NAME(pass_rows)(p, bi, r0, r1, FL_ACT_SIGMOID);
        break;
    case FL_ACT_TANH:
        NAME(pass_rows)(p, bi, r0, r1, FL_ACT_TANH);
        break;
    case FL_ACT_RELU:
        NAME(pass_rows)(p, bi, r0, r1, FL_ACT_RELU);
        break;
    case FL_ACT_LEAKY_RELU:
        NAME(pass_rows)(p, bi, r0, r1, FL_ACT_LEAKY_RELU);
        break;
    case FL_ACT_GELU:
        NAME(pass_rows)(p, bi, r0, r1, FL_ACT_GELU);
        break;
    case FL_ACT_GELU_TANH:
        NAME(pass_rows)(p, bi, r0, r1, FL_ACT_GELU_TANH);
        break;
    default:
        NAME(pass_rows)(p, bi, r0, r1, FL_ACT_IDENTITY);
    }
}

/* Runs the pass over fixed blocks of rows (a size that depends on n_rows only). */
static void NAME(run_pass)(const NAME(pass) *p, ptrdiff_t n_rows, int activation,
                           int n_threads)
{
    const ptrdiff_t block = fl_block_rows(n_rows);
    const ptrdiff_t n_blocks = (n_rows + block - 1) / block;
    const int nt = fl_plan_threads(
        n_threads, (double)n_rows * (double)p->n_cols * fl_activation_cost(activation));
    (void)nt;
    FL_PRAGMA(omp parallel for schedule(static) num_threads(nt) if (nt > 1))
    for (ptrdiff_t bi = 0; bi < n_blocks; bi++) {
        const ptrdiff_t r0 = bi * block, r1 = r0 + block < n_rows ? r0 + block : n_rows;
        NAME(pass_block)(p, bi, r0, r1, activation);
    }
}

static int NAME(activation_ok)(int activation)
{
    return activation >= FL_ACT_IDENTITY && activation <= FL_ACT_GELU_TANH;
}

int NAME(fl_bias_act_fwd)(const REAL *z, const REAL *bias, ptrdiff_t n_rows,
                          ptrdiff_t n_cols, int activation, double slope, REAL *out,
                          int n_threads)
{
    if (n_rows < 0 || n_cols < 0 || !NAME(activation_ok)(activation))
        return FL_ERR_ARGUMENT;
    if (n_rows == 0 || n_cols == 0)
        return FL_OK;
    if (!z || !out)
        return FL_ERR_ARGUMENT;
    const NAME(pass) p = {0, z, bias, NULL, NULL, out, NULL, NULL, n_cols, (REAL)slope};
    NAME(run_pass)(&p, n_rows, activation, n_threads);
    return FL_OK;
}

int NAME(fl_bias_act_bwd)(const REAL *grad_out, const REAL *z, const REAL *bias,
                          const REAL *out, ptrdiff_t n_rows, ptrdiff_t n_cols,
                          int activation, double slope, REAL *grad_z, REAL *grad_bias,
                          double *workspace, int n_threads)
{
    if (n_rows < 0 || n_cols < 0 || !NAME(activation_ok)(activation))
        return FL_ERR_ARGUMENT;
    if (grad_bias && n_rows == 0) {
        for (ptrdiff_t j = 0; j < n_cols; j++)
            grad_bias[j] = 0;
        return FL_OK;
    }
    if (n_rows == 0 || n_cols == 0)
        return FL_OK;
    const REAL *src = NAME(derivative_from_output)(activation) ? out : z;
    if (!grad_out || (activation != FL_ACT_IDENTITY && !src) || (grad_bias && !workspace))
        return FL_ERR_ARGUMENT;
    const NAME(pass) p = {1, z, bias, src, grad_out, NULL, grad_z,
                          grad_bias ? workspace : NULL, n_cols, (REAL)slope};
    NAME(run_pass)(&p, n_rows, activation, n_threads);
    if (grad_bias) {
        const ptrdiff_t n_blocks_cols = fl_bias_act_workspace(n_rows, n_cols);
        for (ptrdiff_t j = 0; j < n_cols; j++) {
            double s = 0.0;
            for (ptrdiff_t k = j; k < n_blocks_cols; k += n_cols)
                s += workspace[k];
            grad_bias[j] = (REAL)s;
        }
    }
    return FL_OK;
}

#undef NAME
#undef FL_CAT
#undef FL_CAT_
