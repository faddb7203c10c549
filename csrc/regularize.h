/* regularize.h - declarations of csrc/regularize.c (included by fastloss.h). */
#ifndef FL_REGULARIZE_H
#define FL_REGULARIZE_H

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

/* Raw sums over every element w of column 0 (see fl_penalty_fwdbwd_*). */
typedef struct fl_penalty_sums {
    double abs_sum;       /* sum |w| */
    double sq_sum;        /* sum w^2 */
    double grad_sq_sum;   /* sum (l1 sign(w) + 2 l2 w)^2: the squared norm of the penalty's
                             gradient, whether or not it is written */
} fl_penalty_sums;

#define FL_DECLARE_PENALTY(T, SFX)                                                       \
    int fl_penalty_fwdbwd_##SFX(const fl_array_table *arrays, double l1, double l2,      \
                                fl_penalty_sums *sums, int n_threads);

/*
 * The elastic penalty P(w) = l1 * sum |w| + l2 * sum w^2 over all arrays of column 0.
 * Fills *sums (the caller forms P from them, leaving out a term whose coefficient is
 * 0, so that an infinite weight does not turn 0 * inf into NaN). When the table has a
 * second column, grad[j] += l1 * sign(w[j]) + 2 * l2 * w[j] in the same pass, where
 * sign(0) = 0 and sign(NaN) = NaN (PyTorch's sign), and a term with coefficient 0
 * adds nothing. Sums are taken in double over fixed blocks of the concatenated range
 * (blocks straddle arrays), then added in block order: bitwise identical results for
 * every n_threads. Returns FL_ERR_ARGUMENT for a malformed table.
 */
FL_DECLARE_PENALTY(float, f32)
FL_DECLARE_PENALTY(double, f64)

#endif /* FL_REGULARIZE_H */
