/* margin.h - declarations of csrc/margin.c (included by fastloss.h). */
#ifndef FL_MARGIN_H
#define FL_MARGIN_H

typedef struct fl_margin_options {
    const double *weight;   /* n_cols class weights, or NULL for all ones */
    int p;                  /* 1 (hinge) or 2 (squared hinge) */
    double margin;
    int normalize;          /* 1: divide each sample's sum by n_cols, as PyTorch */
    int reduction;          /* enum fl_reduction; "mean" divides by n_rows */
} fl_margin_options;

#define FL_DECLARE_MARGIN(T, SFX)                                                          \
    int fl_multi_margin_fwdbwd_##SFX(const T *x, ptrdiff_t n_rows, ptrdiff_t n_cols,        \
                                     const void *labels, int labels_int64,                  \
                                     const fl_margin_options *opt, double *value,           \
                                     T *row_loss, T *grad, fl_error *err, int n_threads);

/*
 * Multiclass margin loss of the rows of x (n_rows x n_cols) with labels y (n_rows,
 * int32 or int64 as labels_int64 says):
 *     loss_i = w[y_i] / D * sum_{j != y_i} max(0, margin - x[i, y_i] + x[i, j])^p,
 * D = n_cols (normalize) or 1 (the Weston-Watkins / CS231n sum). A term counts only
 * where its hinge argument z is > 0 (the kink z = 0 gets slope 0, as PyTorch) or NaN.
 * Reduced by opt->reduction into *value, or written to row_loss ("none"); grad, when
 * not NULL, receives d(value)/d(x). A label outside [0, n_cols) returns FL_ERR_LABEL
 * with its row, before anything is written.
 */
FL_DECLARE_MARGIN(float, f32)
FL_DECLARE_MARGIN(double, f64)

#endif /* FL_MARGIN_H */
