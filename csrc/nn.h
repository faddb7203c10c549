/* nn.h - declarations of csrc/nn.c (included by fastloss.h): the elementwise part of
 * network layers, a bias and an activation, fused forward and backward. */
#ifndef FL_NN_H
#define FL_NN_H

enum fl_activation {
    FL_ACT_IDENTITY = 0,
    FL_ACT_SIGMOID = 1,    /* 1 / (1 + exp(-v)) */
    FL_ACT_TANH = 2,
    FL_ACT_RELU = 3,       /* max(v, 0); derivative 0 at v = 0, as PyTorch */
    FL_ACT_LEAKY_RELU = 4, /* v > 0 ? v : slope * v; derivative slope at v = 0 */
    FL_ACT_GELU = 5,       /* v Phi(v), Phi the standard normal CDF (erf form) */
    FL_ACT_GELU_TANH = 6   /* PyTorch's approximate="tanh": v sigmoid(2 u),
                              u = sqrt(2/pi) (v + 0.044715 v^3) */
};

/* Doubles of workspace fl_bias_act_bwd_* needs to form the bias gradient: one row of
 * n_cols partial sums per fixed block of rows. */
ptrdiff_t fl_bias_act_workspace(ptrdiff_t n_rows, ptrdiff_t n_cols);

#define FL_DECLARE_NN(T, SFX)                                                            \
    int fl_bias_act_fwd_##SFX(const T *z, const T *bias, ptrdiff_t n_rows,               \
                              ptrdiff_t n_cols, int activation, double slope, T *out,    \
                              int n_threads);                                            \
    int fl_bias_act_bwd_##SFX(const T *grad_out, const T *z, const T *bias, const T *out, \
                              ptrdiff_t n_rows, ptrdiff_t n_cols, int activation,        \
                              double slope, T *grad_z, T *grad_bias, double *workspace,  \
                              int n_threads);

/*
 * Shapes: z, out, grad_out, grad_z are n_rows x n_cols, C-contiguous; bias n_cols.
 *
 * fwd: out[i, j] = act(z[i, j] + bias[j])  (bias NULL: act(z[i, j])).
 *
 * bwd: with v = z[i, j] + bias[j] and a = out[i, j] (what fwd wrote),
 *     grad_z[i, j] = grad_out[i, j] * act'(v)
 *     grad_bias[j] = sum_i grad_z[i, j]
 * sigmoid and tanh read act' from a (a (1 - a), 1 - a^2), the others from v; the
 * kernel returns FL_ERR_ARGUMENT when the array it reads is NULL. grad_z may be NULL
 * (bias gradient only) or equal grad_out (in place); grad_bias may be NULL (then
 * workspace may be too), else workspace holds fl_bias_act_workspace(n_rows, n_cols)
 * doubles. grad_bias is summed in double over fixed blocks of rows, then in block
 * order: bitwise identical for every n_threads.
 *
 * NaN in gives NaN out. sigmoid and tanh reach +-1 and 0 at the limits; sigmoid
 * results below the smallest normal number may be flushed to 0.
 */
FL_DECLARE_NN(float, f32)
FL_DECLARE_NN(double, f64)

#endif /* FL_NN_H */
