/* regularize.h - declarations of csrc/regularize.c (included by fastloss.h). */
#ifndef FL_REGULARIZE_H
#define FL_REGULARIZE_H

/* fl_array_table: see fastloss.h. */

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
