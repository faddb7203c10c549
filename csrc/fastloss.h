/*
 * fastloss.h - the C kernels behind fastloss.
 *
 * Plain C99 (+ OpenMP when the compiler has it); no Python headers. Every kernel:
 *   - takes const inputs, then sizes, then outputs, then n_threads;
 *   - works on rows of C-contiguous 2-D arrays (n_rows x n_cols);
 *   - never allocates on the heap, never prints, never aborts;
 *   - returns FL_OK or an error code, with the place of the error in *err;
 *   - gives bitwise identical results for every n_threads: reductions are summed in
 *     fixed blocks of rows whose size depends on n_rows only, then in block order.
 * float and double kernels come from one source (softmax_impl.h, included twice).
 */
#ifndef FASTLOSS_H
#define FASTLOSS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum fl_status {
    FL_OK = 0,
    FL_ERR_LABEL = 1,       /* err->row holds the first bad row, err->value its label */
    FL_ERR_ARGUMENT = 2,    /* a size or option no caller should have passed */
    FL_ERR_VALUE = 3        /* an entry outside the loss's domain: see the kernel */
};

typedef struct fl_error {
    ptrdiff_t row;
    int64_t value;
} fl_error;

enum fl_reduction { FL_REDUCTION_NONE = 0, FL_REDUCTION_SUM = 1, FL_REDUCTION_MEAN = 2 };

/* The target of a classification loss: hard labels or a distribution per row. */
typedef struct fl_class_target {
    const void *labels;      /* n_rows class indices (int32 or int64), or NULL */
    int labels_int64;        /* 1: labels are int64_t, 0: int32_t */
    int64_t ignore_index;    /* rows with this label contribute nothing */
    const void *probs;       /* n_rows x n_cols, the input's type; used when labels is NULL */
} fl_class_target;

typedef struct fl_class_options {
    const double *weight;    /* n_cols class weights, never NULL (all ones = unweighted) */
    double label_smoothing;  /* epsilon in [0, 1] */
    int reduction;           /* enum fl_reduction */
} fl_class_options;

/*
 * A list of arrays seen as one concatenated range of elements, with one or more
 * "columns" of arrays that share the sizes (column 0: the parameters, read only;
 * column 1: their gradients, updated in place; an optimizer adds its state columns).
 * Every array of a table has the kernel's element type and is C-contiguous; arrays of
 * column >= 1 never overlap any other array of the table (the caller checks).
 *
 *   offsets[i] .. offsets[i + 1]: the elements of array i in the concatenated range
 *                                 (offsets[0] = 0, non-decreasing; empty arrays allowed)
 *   addresses[c * n_arrays + i]:  the first element of array i of column c
 */
typedef struct fl_array_table {
    ptrdiff_t n_arrays;
    int n_columns;
    const ptrdiff_t *offsets;     /* n_arrays + 1 entries */
    const intptr_t *addresses;    /* n_columns x n_arrays, row-major */
} fl_array_table;

/* ---- runtime ---------------------------------------------------------------------- */

/* Threads a kernel really starts: n_threads (< 1 = the OpenMP default), lowered so
 * that each thread gets at least FL_MIN_WORK_PER_THREAD elements; 1 without OpenMP. */
int fl_plan_threads(int n_threads, double work_elements);
int fl_openmp_enabled(void);
int fl_openmp_max_threads(void);
const char *fl_compiler(void);
const char *fl_simd_paths(void);    /* the code paths compiled in */
const char *fl_simd_active(void);   /* the one this CPU runs */

/* Vectorizable exp used by the kernels, exposed so that tests can measure its error. */
void fl_exp_f32(const float *x, ptrdiff_t n, float *out);
void fl_exp_f64(const double *x, ptrdiff_t n, double *out);
/* The same for x <= 0, -inf and NaN only (what the kernels use): cheaper. */
void fl_exp_nonpos_f32(const float *x, ptrdiff_t n, float *out);
void fl_exp_nonpos_f64(const double *x, ptrdiff_t n, double *out);
/* The vectorizable log, and log1p on [-1, 1] (see fl_common.h), for the same tests. */
void fl_log_f32(const float *x, ptrdiff_t n, float *out);
void fl_log_f64(const double *x, ptrdiff_t n, double *out);
void fl_log1p_unit_f32(const float *x, ptrdiff_t n, float *out);
void fl_log1p_unit_f64(const double *x, ptrdiff_t n, double *out);

/* ---- softmax family (csrc/softmax.c) ----------------------------------------------- */

#define FL_DECLARE_SOFTMAX(T, SFX)                                                       \
    int fl_softmax_fwd_##SFX(const T *x, ptrdiff_t n_rows, ptrdiff_t n_cols, T *out,      \
                             int n_threads);                                              \
    int fl_log_softmax_fwd_##SFX(const T *x, ptrdiff_t n_rows, ptrdiff_t n_cols, T *out,  \
                                 int n_threads);                                          \
    int fl_logsumexp_fwd_##SFX(const T *x, ptrdiff_t n_rows, ptrdiff_t n_cols, T *out,    \
                               int n_threads);                                            \
    int fl_cross_entropy_fwdbwd_##SFX(const T *logits, ptrdiff_t n_rows, ptrdiff_t n_cols, \
                                      const fl_class_target *target,                      \
                                      const fl_class_options *opt, double *value,         \
                                      T *row_loss, T *grad, fl_error *err,                \
                                      int n_threads);                                     \
    int fl_nll_fwdbwd_##SFX(const T *logp, ptrdiff_t n_rows, ptrdiff_t n_cols,            \
                            const fl_class_target *target, const fl_class_options *opt,   \
                            double *value, T *row_loss, T *grad, fl_error *err,           \
                            int n_threads);

/*
 * softmax / log_softmax / logsumexp over the last axis. out has n_rows x n_cols entries
 * (n_rows for logsumexp). Rows holding +inf or -inf get the mathematical limit: with
 * k entries equal to +inf, softmax gives 1/k to each of them and 0 elsewhere; -inf
 * entries get probability 0. A row that is all -inf, or holds a NaN, gives NaN.
 *
 * cross_entropy: per row i with target weights b_ij (see softmax_impl.h),
 *     loss_i = sum_j b_ij * (logsumexp(x_i) - x_ij),
 * reduced by opt->reduction into *value (sum or mean; NaN for a mean over nothing), or
 * written to row_loss (none). grad, when not NULL, receives d(value)/d(logits);
 * it may be NULL to compute the value alone. nll: the same with input log-probabilities.
 */
FL_DECLARE_SOFTMAX(float, f32)
FL_DECLARE_SOFTMAX(double, f64)

/* ---- the other families: one header each, next to its source ---------------------- */
#include "elementwise.h"   /* regression and binary losses, elementwise */
#include "margin.h"        /* multiclass margin losses */
#include "divergence.h"    /* KL divergence */
#include "cluster.h"       /* within-cluster sum of squares, Lloyd step */
#include "regularize.h"    /* L1 / L2 / elastic net over many arrays */
#include "optim.h"         /* optimizer steps over many arrays */
#include "nn.h"            /* fused bias + activation of network layers */
#include "landscape.h"     /* loss surfaces of networks over a grid */

#ifdef __cplusplus
}
#endif
#endif /* FASTLOSS_H */
