/* divergence.h - declarations of csrc/divergence.c (included by fastloss.h). */
#ifndef FL_DIVERGENCE_H
#define FL_DIVERGENCE_H

#define FL_DECLARE_DIVERGENCE(T, SFX)                                                      \
    int fl_kl_div_fwdbwd_##SFX(const T *input, const T *target, ptrdiff_t n, int log_target, \
                               int reduction, double divisor, double *value, T *elem_loss,  \
                               T *grad, fl_error *err, int n_threads);                      \
    int fl_kl_divergence_##SFX(const T *p, const T *q, ptrdiff_t n_rows, ptrdiff_t n_cols,   \
                               int reduction, double *value, T *row_kl, fl_error *err,      \
                               int n_threads);

/*
 * kl_div: PyTorch's pointwise KL of n entries, input x = log-probabilities:
 *     l = t (log t - x)           (log_target = 0; l = 0 where t = 0)
 *     l = exp(t) (t - x)          (log_target = 1; l = 0 where exp(t) = 0)
 * reduction NONE writes l to elem_loss; SUM puts sum l in *value; MEAN puts
 * sum l / divisor (divisor = n for "mean", the batch size for "batchmean"). grad, when
 * not NULL, receives d(value)/dx = -t / divisor (-exp(t) / divisor): 0 where the term is
 * 0. A negative target with log_target = 0 returns FL_ERR_VALUE (argument 1).
 *
 * kl_divergence: per row of probabilities p, q (n_rows x n_cols),
 *     KL_i = sum_j p_ij log(p_ij / q_ij),  0 log(0 / q) = 0,  p log(p / 0) = +inf (p > 0);
 * reduction NONE writes row_kl (n_rows), SUM / MEAN (over rows) put it in *value. An
 * entry outside [0, 1] returns FL_ERR_VALUE (argument 0 for p, 1 for q).
 */
FL_DECLARE_DIVERGENCE(float, f32)
FL_DECLARE_DIVERGENCE(double, f64)

#endif /* FL_DIVERGENCE_H */
