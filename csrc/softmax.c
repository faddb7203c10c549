/*
 * softmax.c - softmax, log-softmax, logsumexp, cross-entropy and NLL.
 *
 * The type-independent parts live here; the row kernels are in softmax_impl.h, which
 * this file includes once for float and once for double.
 */
#include "fl_common.h"

/* What one pass over a row learns (see row_pass in softmax_impl.h). The sum of
 * exp(x_j - m) is kept as `below` + `n_top`. Where the sum is small, n_top counts the
 * entries equal to the max m (each contributes exactly 1) and below sums the rest: then
 * log(sum) = log1p(below + n_top - 1) keeps full relative accuracy when one logit
 * dominates and the loss is tiny. Elsewhere below is the whole sum and n_top is 0. */
typedef struct fl_row_stats {
    double m;         /* the row max */
    double below;     /* sum of exp(x_j - m) over the entries below m, or over all */
    double n_top;     /* how many entries equal m, or 0 */
    double d;         /* sum_j c_j * (m - x_j): every term >= 0, no cancellation */
    double c_sum;     /* sum_j c_j, the target weights of the row */
    double log_s;     /* log(below + n_top) */
    int finite;       /* 0: the row holds an inf or a NaN, see fl_row_limits */
    int split;        /* below and n_top are split (else below may be the whole sum) */
} fl_row_stats;

/* A row with inf or NaN entries, described by its mathematical limit:
 *   FL_ROW_NAN:  a NaN entry, or every entry -inf: no limit exists;
 *   FL_ROW_PINF: P entries are +inf: they share probability 1/P, the rest get 0;
 *   FL_ROW_FINITE: finite max m, -inf entries get probability 0. */
enum { FL_ROW_FINITE, FL_ROW_PINF, FL_ROW_NAN };
typedef struct fl_row_limits {
    int kind;
    double m;       /* FL_ROW_FINITE: the max of the row */
    double log_s;   /* FINITE: log sum exp(x_j - m); PINF: log P */
} fl_row_limits;

static double fl_row_logp(const fl_row_limits *L, double v)
{
    switch (L->kind) {
    case FL_ROW_FINITE:
        return (v - L->m) - L->log_s;
    case FL_ROW_PINF:
        return v == INFINITY ? -L->log_s : -INFINITY;
    default:
        return NAN;
    }
}

static double fl_row_lse(const fl_row_limits *L)
{
    switch (L->kind) {
    case FL_ROW_FINITE:
        return L->m + L->log_s;
    case FL_ROW_PINF:
        return INFINITY;
    default:
        return NAN;
    }
}

/* The divisor of reduction="mean": the summed class weights of the rows that are not
 * ignored (hard labels), or the number of rows (probabilities). Also validates labels
 * before any output is written. */
static int fl_class_denominator(const fl_class_target *t, ptrdiff_t n_rows, ptrdiff_t n_cols,
                                const double *weight, double *denom, fl_error *err)
{
    if (!t->labels) {
        *denom = (double)n_rows;
        return FL_OK;
    }
    double total = 0.0;
    for (ptrdiff_t i = 0; i < n_rows; i++) {
        int64_t y = fl_label_at(t, i);
        if (y == t->ignore_index)
            continue;
        if (y < 0 || y >= n_cols) {
            err->row = i;
            err->value = y;
            return FL_ERR_LABEL;
        }
        total += weight[y];
    }
    *denom = total;
    return FL_OK;
}

static double fl_sum(const double *w, ptrdiff_t n)
{
    double s = 0.0;
    for (ptrdiff_t j = 0; j < n; j++)
        s += w[j];
    return s;
}

#define REAL float
#define SFX f32
#define EXP fl_expf_nonpos
#include "softmax_impl.h"
#undef REAL
#undef SFX
#undef EXP

#define REAL double
#define SFX f64
#define EXP fl_exp_nonpos
#include "softmax_impl.h"
#undef REAL
#undef SFX
#undef EXP
