/* landscape.h - declarations of csrc/landscape.c (included by fastloss.h): the loss of a
 * multilayer perceptron at every point of a plane of parameter vectors, in one call. */
#ifndef FL_LANDSCAPE_H
#define FL_LANDSCAPE_H

/* The network: n_layers dense layers, layer l maps widths[l] to widths[l + 1] columns,
 * y = act_l(x W_l^T + b_l). Its parameters live in one flat vector (theta and the two
 * directions share that layout): W_l (widths[l + 1] x widths[l], row-major) at
 * weight_offsets[l], b_l at bias_offsets[l] (-1: no bias). */
typedef struct fl_mlp {
    int n_layers;
    const ptrdiff_t *widths;          /* n_layers + 1 */
    const ptrdiff_t *weight_offsets;  /* n_layers */
    const ptrdiff_t *bias_offsets;    /* n_layers */
    const int *activations;           /* n_layers, enum fl_activation (nn.h) */
    const double *slopes;             /* n_layers, the leaky_relu slope */
} fl_mlp;

/* Dense layers a network may have (their buffers' addresses are kept on the stack). */
#define FL_LANDSCAPE_MAX_LAYERS 64

enum fl_surface_loss_kind { FL_SURFACE_CROSS_ENTROPY = 0, FL_SURFACE_MSE = 1 };

/* The loss of the network's output z (n_samples x C):
 *   cross-entropy: w[y_i] (logsumexp(z_i) - z_i[y_i]) over the rows with y_i != ignore_index
 *                  (w all ones when class_weight is NULL); labels in [0, C), checked by the
 *                  caller;
 *   mse:           sum_j (z_ij - t_ij)^2, t = targets (n_samples x C, the network's type);
 * summed over samples in double and divided by `divisor` (1 for reduction="sum"). */
typedef struct fl_surface_loss {
    int kind;
    const int64_t *labels;
    int64_t ignore_index;
    const double *class_weight;
    const void *targets;
    double divisor;
} fl_surface_loss;

#define FL_DECLARE_LANDSCAPE(T, SFX)                                                     \
    ptrdiff_t fl_mlp_surface_scratch_##SFX(const fl_mlp *net);                           \
    int fl_mlp_surface_##SFX(const T *x, const T *first_products, ptrdiff_t n_samples,   \
                             const fl_mlp *net, const fl_surface_loss *loss,             \
                             const T *theta, const T *d1, const T *d2,                   \
                             const double *alphas, ptrdiff_t n_alphas,                   \
                             const double *betas, ptrdiff_t n_betas, T *scratch,         \
                             ptrdiff_t scratch_len, double *values, int n_threads);

/*
 * values[i * n_betas + j] = J(theta + alphas[i] d1 + betas[j] d2), J the loss above of
 * the network on x (n_samples x widths[0]).
 *
 * The first layer is affine in (alpha, beta): with first_products (3 x n_samples x
 * widths[1]) holding x W^T + b for the first layer's block of theta, d1 and d2, its
 * pre-activation is P0 + alpha P1 + beta P2 (x is then not read and may be NULL);
 * first_products NULL: x (W + alpha D1 + beta D2)^T + ..., cheaper for 1 to 3 inputs.
 *
 * Each grid point is evaluated whole by one thread (samples in chunks that stay in
 * cache, layer after layer, then the loss summed in sample order), so the grid is
 * bitwise identical for every n_threads. scratch holds scratch_len elements, at least
 * fl_mlp_surface_scratch_*(net) per thread: fewer threads run if it holds less.
 * Returns FL_ERR_ARGUMENT for inconsistent sizes or a scratch too small for one thread.
 */
FL_DECLARE_LANDSCAPE(float, f32)
FL_DECLARE_LANDSCAPE(double, f64)

#endif /* FL_LANDSCAPE_H */
