/* elementwise.h - declarations of csrc/elementwise.c (included by fastloss.h).
 *
 * Losses that pair each input entry x with a target entry y of the same shape:
 * regression (x a prediction, y the truth) and binary classification (x a probability,
 * a logit or a score). One kernel computes, in one pass over the data,
 *     value = sum_i w_i * l(x_i, y_i)          (reduction "sum")
 *     value = that sum / divisor               ("mean"; the caller picks the divisor)
 *     loss_out[i] = w_i * l(x_i, y_i)          ("none")
 *     grad[i] = w_i * dl/dx(x_i, y_i) * scale  (scale = 1 / divisor for "mean", else 1)
 * The data is viewed as n_rows x n_cols (C order); a weight is read with strides, so a
 * scalar (0, 0), one per row (1, 0), one per column (0, 1) or a full array (n_cols, 1)
 * needs no copy.
 */
#ifndef FL_ELEMENTWISE_H
#define FL_ELEMENTWISE_H

/* The order is part of the ABI: _elementwise.pxi maps names to these numbers. */
enum fl_elementwise_kind {
    FL_MSE = 0,          /* (x - y)^2 */
    FL_L1,               /* |x - y| */
    FL_HUBER,            /* p0 = delta */
    FL_SMOOTH_L1,        /* p0 = beta (0: L1) */
    FL_LOG_COSH,         /* log cosh(x - y) */
    FL_QUANTILE,         /* p0 = q: pinball loss of the residual y - x */
    FL_BCE,              /* x a probability, y in [0, 1]; logs clamped at -100 */
    FL_BCE_LOGITS,       /* x a logit, y in [0, 1]; pos_weight applies */
    FL_HINGE,            /* y in {-1, 1} or {0, 1}: max(0, 1 - y x) */
    FL_SQUARED_HINGE,    /* max(0, 1 - y x)^2 */
    FL_SIGMOID_FOCAL,    /* x a logit; p0 = alpha (< 0: none), p1 = gamma */
    FL_N_ELEMENTWISE_KINDS
};

/* A weight broadcast over the n_rows x n_cols view: entry (r, c) is
 * w[r * row_stride + c * col_stride]; w == NULL means 1 everywhere. */
typedef struct fl_strided_weight {
    const void *w;            /* the input's type */
    ptrdiff_t row_stride;
    ptrdiff_t col_stride;     /* 0 or 1 */
} fl_strided_weight;

typedef struct fl_elementwise_options {
    int kind;                 /* enum fl_elementwise_kind */
    double p0, p1;            /* the kind's parameters, see the enum */
    fl_strided_weight weight;
    fl_strided_weight pos_weight; /* FL_BCE_LOGITS only */
    int reduction;            /* enum fl_reduction */
    double divisor;           /* of "mean" */
} fl_elementwise_options;

/* What a pass found beside the value. FL_ERR_VALUE: err->row is the flat index of the
 * first entry outside the loss's domain, err->value says which array (0 input,
 * 1 target); for FL_HINGE / FL_SQUARED_HINGE, err->value 2 means the targets mix the
 * {-1, 1} and {0, 1} encodings (both -1 and 0 occur). */
typedef struct fl_elementwise_info {
    int64_t n_clamped;        /* FL_BCE: entries where a log that counts was clamped */
} fl_elementwise_info;

#define FL_DECLARE_ELEMENTWISE(T, SFX)                                                   \
    int fl_elementwise_##SFX(const T *input, const T *target, ptrdiff_t n_rows,          \
                             ptrdiff_t n_cols, const fl_elementwise_options *opt,         \
                             double *value, T *loss_out, T *grad,                         \
                             fl_elementwise_info *info, fl_error *err, int n_threads);

FL_DECLARE_ELEMENTWISE(float, f32)
FL_DECLARE_ELEMENTWISE(double, f64)

#endif /* FL_ELEMENTWISE_H */
