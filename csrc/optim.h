/* optim.h - declarations of csrc/optim.c (included by fastloss.h). */
#ifndef FL_OPTIM_H
#define FL_OPTIM_H

/*
 * Optimizer steps over every parameter array of a group in one call. The arrays form
 * an fl_array_table (fastloss.h) whose columns are, unlike the regularizers' tables:
 *   column 0: the parameters, UPDATED IN PLACE;
 *   column 1: their gradients, only read;
 *   column 2...: the optimizer's state arrays, updated in place, as each kernel lists.
 * Every update is elementwise, so the result never depends on n_threads or on how the
 * range is split into blocks. Arithmetic is in the arrays' type, in PyTorch's order of
 * operations (torch.optim's single-tensor loops); the per-step scalars (bias
 * corrections, decayed learning rates) are computed once by the caller in double.
 * A NaN or inf gradient propagates into the parameter and the state, as in PyTorch.
 * Each kernel returns FL_ERR_ARGUMENT for a malformed table (a wrong column count).
 */

/* g = maximize ? -grad : grad; g += weight_decay * p (weight_decay != 0);
 * with momentum != 0 (column 2: the buffer b):
 *     b = first_step ? g : momentum * b + (1 - dampening) * g;
 *     g = nesterov ? g + momentum * b : b;
 * then p -= lr * g. Without momentum the table has 2 columns. */
typedef struct fl_sgd_options {
    double lr, momentum, dampening, weight_decay;
    int nesterov, maximize, first_step;
} fl_sgd_options;

/* g as for SGD; column 2: the sum of squares s. s += g^2; p -= clr * g / (sqrt(s) + eps),
 * clr = lr / (1 + (step - 1) * lr_decay) computed by the caller. */
typedef struct fl_adagrad_options {
    double clr, eps, weight_decay;
    int maximize;
} fl_adagrad_options;

/* g as for SGD; columns: 2 square_avg v, then 3 the momentum buffer b when
 * momentum > 0, then the gradient average a when centered (column 3 or 4).
 * v = alpha v + (1 - alpha) g^2; centered: a = lerp(a, g, 1 - alpha), d = sqrt(v - a^2)
 * else d = sqrt(v); d += eps; momentum > 0: b = momentum b + g / d, p -= lr b;
 * else p -= lr g / d. */
typedef struct fl_rmsprop_options {
    double lr, alpha, eps, weight_decay, momentum;
    int centered, maximize;
} fl_rmsprop_options;

/* g = maximize ? -grad : grad; Adam: g += weight_decay p; AdamW (decoupled):
 * p *= 1 - lr weight_decay. Columns 2: m, 3: v, 4: v_max (amsgrad only).
 * m = lerp(m, g, 1 - beta1); v = beta2 v + (1 - beta2) g^2; amsgrad: v_max =
 * max(v_max, v) (NaN wins), used in place of v; p -= step_size m / (sqrt(v) / bc2_sqrt
 * + eps) with step_size = lr / (1 - beta1^t), bc2_sqrt = sqrt(1 - beta2^t). */
typedef struct fl_adam_options {
    double lr, beta1, beta2, eps, weight_decay, step_size, bias_correction2_sqrt;
    int amsgrad, maximize, decoupled;
} fl_adam_options;

#define FL_DECLARE_OPTIM(T, SFX)                                                        \
    int fl_sgd_step_##SFX(const fl_array_table *t, const fl_sgd_options *opt,             \
                          int n_threads);                                                 \
    int fl_adagrad_step_##SFX(const fl_array_table *t, const fl_adagrad_options *opt,     \
                              int n_threads);                                             \
    int fl_rmsprop_step_##SFX(const fl_array_table *t, const fl_rmsprop_options *opt,     \
                              int n_threads);                                             \
    int fl_adam_step_##SFX(const fl_array_table *t, const fl_adam_options *opt,           \
                           int n_threads);                                                \
    int fl_grad_norm_##SFX(const fl_array_table *t, double norm_type, double *result,    \
                           int n_threads);                                                \
    int fl_grads_finite_##SFX(const fl_array_table *t, int *all_finite, int n_threads);   \
    int fl_grad_scale_##SFX(const fl_array_table *t, double factor, int n_threads);       \
    int fl_grad_clamp_##SFX(const fl_array_table *t, double clip_value, int n_threads);

/*
 * Gradient clipping over the arrays of a one-column table (the gradients):
 *   grad_norm:    *result = sum |g|^p for a finite p > 0, max |g| for p = +inf (NaN if
 *                 any entry is NaN); in double, over fixed blocks added in order.
 *   grads_finite: *all_finite = 1 when no entry is inf or NaN, else 0.
 *   grad_scale:   g *= (T)factor.
 *   grad_clamp:   g = min(max(g, -clip_value), clip_value), NaN stays NaN.
 */
FL_DECLARE_OPTIM(float, f32)
FL_DECLARE_OPTIM(double, f64)

#endif /* FL_OPTIM_H */
