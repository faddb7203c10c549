/*
 * optim_impl.h - the optimizer and clipping kernels, written once for both types.
 * Included by optim.c with REAL (float or double), SQRT (sqrtf or sqrt) and SFX (f32
 * or f64): the square roots are taken in the arrays' type, as PyTorch does.
 *
 * Each kernel is one walk over the table: fixed blocks of the concatenated range (a
 * size that depends on the total only), split into runs where the blocks cross array
 * boundaries; each run is a flat loop the compiler vectorizes. Updates read and write
 * every element once (Adam in float: read p, g, m, v, write p, m, v = 28 bytes).
 */

#define FL_CAT_(a, b) a##_##b
#define FL_CAT(a, b) FL_CAT_(a, b)
#define NAME(base) FL_CAT(base, SFX)

/* torch.lerp's two forms (exact at weight 0 and 1): a + w (b - a) for w < 0.5. */
FL_INLINE REAL NAME(lerp)(REAL a, REAL b, REAL w, int small_weight)
{
    return small_weight ? a + w * (b - a) : b - (b - a) * ((REAL)1 - w);
}

/* The gradient as every rule first sees it: sign-flipped, plus L2 weight decay. */
FL_INLINE REAL NAME(effective_grad)(REAL g, REAL p, int maximize, REAL weight_decay)
{
    g = maximize ? -g : g;
    return weight_decay != 0 ? g + weight_decay * p : g;
}

/* col: p, g, then the state columns, each advanced to the run's first element. */
FL_INLINE void NAME(sgd_run)(REAL *const *col, ptrdiff_t n, const fl_sgd_options *o)
{
    REAL *restrict p = col[0], *restrict buf = col[2];
    const REAL *g = col[1];
    const REAL lr = (REAL)o->lr, wd = (REAL)o->weight_decay, mom = (REAL)o->momentum;
    const REAL keep = (REAL)(1.0 - o->dampening);
    const int maximize = o->maximize, nesterov = o->nesterov, first = o->first_step;
    if (o->momentum == 0.0) {
        FL_SIMD
        for (ptrdiff_t j = 0; j < n; j++)
            p[j] = p[j] + -lr * NAME(effective_grad)(g[j], p[j], maximize, wd);
        return;
    }
    FL_SIMD
    for (ptrdiff_t j = 0; j < n; j++) {
        const REAL d = NAME(effective_grad)(g[j], p[j], maximize, wd);
        const REAL b = first ? d : buf[j] * mom + keep * d;
        buf[j] = b;
        p[j] = p[j] + -lr * (nesterov ? d + mom * b : b);
    }
}

FL_INLINE void NAME(adagrad_run)(REAL *const *col, ptrdiff_t n, const fl_adagrad_options *o)
{
    REAL *restrict p = col[0], *restrict sum = col[2];
    const REAL *g = col[1];
    const REAL clr = (REAL)o->clr, eps = (REAL)o->eps, wd = (REAL)o->weight_decay;
    const int maximize = o->maximize;
    FL_SIMD
    for (ptrdiff_t j = 0; j < n; j++) {
        const REAL d = NAME(effective_grad)(g[j], p[j], maximize, wd);
        const REAL s = sum[j] + d * d;
        sum[j] = s;
        p[j] = p[j] + -clr * d / (SQRT(s) + eps);
    }
}

/* The loop of rmsprop_run, called with constant flags so that each use compiles to
 * its own branch-free vector loop. */
FL_INLINE void NAME(rmsprop_loop)(REAL *const *col, ptrdiff_t n, const fl_rmsprop_options *o,
                                  const int has_momentum, const int centered)
{
    REAL *restrict p = col[0], *restrict sq = col[2];
    REAL *restrict buf = has_momentum ? col[3] : NULL;
    REAL *restrict avg = centered ? col[3 + has_momentum] : NULL;
    const REAL *g = col[1];
    const REAL lr = (REAL)o->lr, alpha = (REAL)o->alpha, eps = (REAL)o->eps;
    const REAL wd = (REAL)o->weight_decay, mom = (REAL)o->momentum;
    const REAL w = (REAL)(1.0 - o->alpha);
    const int maximize = o->maximize, small_weight = 1.0 - o->alpha < 0.5;
    FL_SIMD
    for (ptrdiff_t j = 0; j < n; j++) {
        const REAL d = NAME(effective_grad)(g[j], p[j], maximize, wd);
        const REAL v = sq[j] * alpha + w * d * d;
        sq[j] = v;
        REAL a = 0;
        if (centered) {
            a = NAME(lerp)(avg[j], d, w, small_weight);
            avg[j] = a;
        }
        const REAL denom = SQRT(v + -a * a) + eps;
        if (has_momentum) {
            const REAL b = buf[j] * mom + d / denom;
            buf[j] = b;
            p[j] = p[j] + -lr * b;
        } else {
            p[j] = p[j] + -lr * d / denom;
        }
    }
}

FL_INLINE void NAME(rmsprop_run)(REAL *const *col, ptrdiff_t n, const fl_rmsprop_options *o)
{
    const int has_momentum = o->momentum > 0.0;
    if (has_momentum && o->centered)
        NAME(rmsprop_loop)(col, n, o, 1, 1);
    else if (has_momentum)
        NAME(rmsprop_loop)(col, n, o, 1, 0);
    else if (o->centered)
        NAME(rmsprop_loop)(col, n, o, 0, 1);
    else
        NAME(rmsprop_loop)(col, n, o, 0, 0);
}

/* The loop of adam_run, with a constant amsgrad (see rmsprop_loop). */
FL_INLINE void NAME(adam_loop)(REAL *const *col, ptrdiff_t n, const fl_adam_options *o,
                               const int amsgrad)
{
    REAL *restrict p = col[0], *restrict m = col[2], *restrict v = col[3];
    REAL *restrict v_max = amsgrad ? col[4] : NULL;
    const REAL *g = col[1];
    const REAL w1 = (REAL)(1.0 - o->beta1), beta2 = (REAL)o->beta2;
    const REAL w2 = (REAL)(1.0 - o->beta2), eps = (REAL)o->eps;
    const REAL step_size = (REAL)o->step_size, bc2_sqrt = (REAL)o->bias_correction2_sqrt;
    const REAL l2 = o->decoupled ? 0 : (REAL)o->weight_decay;
    const REAL shrink = (REAL)(1.0 - o->lr * o->weight_decay);
    const int decay_p = o->decoupled && o->weight_decay != 0.0;
    const int maximize = o->maximize, small_weight = 1.0 - o->beta1 < 0.5;
    FL_SIMD
    for (ptrdiff_t j = 0; j < n; j++) {
        const REAL pj = decay_p ? p[j] * shrink : p[j];
        const REAL d = NAME(effective_grad)(g[j], pj, maximize, l2);
        const REAL mj = NAME(lerp)(m[j], d, w1, small_weight);
        const REAL vj = v[j] * beta2 + w2 * d * d;
        m[j] = mj;
        v[j] = vj;
        REAL vh = vj;
        if (amsgrad) {
            const REAL old = v_max[j];
            /* torch.maximum: a NaN on either side gives NaN */
            vh = old != old ? old : (old > vj ? old : vj);
            v_max[j] = vh;
        }
        p[j] = pj + -step_size * mj / (SQRT(vh) / bc2_sqrt + eps);
    }
}

FL_INLINE void NAME(adam_run)(REAL *const *col, ptrdiff_t n, const fl_adam_options *o)
{
    if (o->amsgrad)
        NAME(adam_loop)(col, n, o, 1);
    else
        NAME(adam_loop)(col, n, o, 0);
}

/* Reductions over one run of gradients, in double. */
FL_INLINE double NAME(reduce_run)(const REAL *g, ptrdiff_t n, int op, double norm_type)
{
    double acc = 0.0;
    if (op == OP_SUM_SQ) {
        FL_PRAGMA(omp simd reduction(+ : acc))
        for (ptrdiff_t j = 0; j < n; j++)
            acc += (double)g[j] * (double)g[j];
    } else if (op == OP_SUM_ABS) {
        FL_PRAGMA(omp simd reduction(+ : acc))
        for (ptrdiff_t j = 0; j < n; j++)
            acc += fabs((double)g[j]);
    } else if (op == OP_SUM_POW) {
        for (ptrdiff_t j = 0; j < n; j++)
            acc += pow(fabs((double)g[j]), norm_type);
    } else if (op == OP_NONFINITE) {
        /* g * 0 is NaN exactly for inf and NaN */
        FL_PRAGMA(omp simd reduction(+ : acc))
        for (ptrdiff_t j = 0; j < n; j++)
            acc += (double)g[j] * 0.0;
    } else { /* OP_MAX_ABS */
        double nans = 0.0;
        FL_PRAGMA(omp simd reduction(max : acc) reduction(+ : nans))
        for (ptrdiff_t j = 0; j < n; j++) {
            const double a = fabs((double)g[j]);
            nans += a != a;
            acc = a > acc ? a : acc;
        }
        acc = nans > 0.0 ? NAN : acc;
    }
    return acc;
}

FL_INLINE void NAME(rewrite_run)(REAL *restrict g, ptrdiff_t n, int op, double value)
{
    const REAL c = (REAL)value;
    if (op == OP_SCALE) {
        FL_SIMD
        for (ptrdiff_t j = 0; j < n; j++)
            g[j] = g[j] * c;
    } else { /* OP_CLAMP: comparisons are false for NaN, which passes through */
        FL_SIMD
        for (ptrdiff_t j = 0; j < n; j++) {
            const REAL x = g[j] < -c ? -c : g[j];
            g[j] = x > c ? c : x;
        }
    }
}

/* Elements [b0, b1) of the concatenated range, across as many arrays as they span.
 * Returns the block's reduction (0 for updates and rewrites). */
FL_HOT static double NAME(walk_block)(const fl_array_table *t, ptrdiff_t b0, ptrdiff_t b1,
                                      int op, const void *opt, double scalar)
{
    double acc = 0.0;
    REAL *col[OPTIM_MAX_COLUMNS];
    for (ptrdiff_t i = fl_table_array_at(t, b0), pos = b0; pos < b1; i++) {
        const ptrdiff_t start = t->offsets[i], end = t->offsets[i + 1];
        const ptrdiff_t stop = end < b1 ? end : b1;
        if (stop <= pos)
            continue;  /* an empty array */
        for (int c = 0; c < t->n_columns; c++)
            col[c] = (REAL *)t->addresses[(ptrdiff_t)c * t->n_arrays + i] + (pos - start);
        const ptrdiff_t n = stop - pos;
        switch (op) {
        case OP_SGD: NAME(sgd_run)(col, n, (const fl_sgd_options *)opt); break;
        case OP_ADAGRAD: NAME(adagrad_run)(col, n, (const fl_adagrad_options *)opt); break;
        case OP_RMSPROP: NAME(rmsprop_run)(col, n, (const fl_rmsprop_options *)opt); break;
        case OP_ADAM: NAME(adam_run)(col, n, (const fl_adam_options *)opt); break;
        case OP_SCALE:
        case OP_CLAMP: NAME(rewrite_run)(col[0], n, op, scalar); break;
        case OP_MAX_ABS: {
            const double m = NAME(reduce_run)(col[0], n, op, scalar);
            if (acc == acc && (m != m || m > acc))
                acc = m;  /* the first NaN stays */
            break;
        }
        default: acc += NAME(reduce_run)(col[0], n, op, scalar); break;
        }
        pos = stop;
    }
    return acc;
}

/* One walk over the whole table; *result (when not NULL) gets the block results
 * combined in block order: the sum, or for OP_MAX_ABS the maximum (NaN wins). */
static int NAME(walk)(const fl_array_table *t, int n_columns, int op, const void *opt,
                      double scalar, double *result, int n_threads)
{
    if (!fl_table_ok(t, OPTIM_MAX_COLUMNS) || t->n_columns != n_columns)
        return FL_ERR_ARGUMENT;
    const ptrdiff_t total = t->offsets[t->n_arrays];
    const ptrdiff_t block = fl_table_block_len(total);
    const ptrdiff_t n_blocks = (total + block - 1) / block;
    double partial[FL_MAX_BLOCKS];
    const int nt = fl_plan_threads(n_threads, (double)total * n_columns);
    (void)nt;
    FL_PRAGMA(omp parallel for schedule(static) num_threads(nt) if (nt > 1))
    for (ptrdiff_t bi = 0; bi < n_blocks; bi++) {
        const ptrdiff_t b0 = bi * block;
        const ptrdiff_t b1 = b0 + block < total ? b0 + block : total;
        partial[bi] = NAME(walk_block)(t, b0, b1, op, opt, scalar);
    }
    if (result) {
        double r = 0.0;
        for (ptrdiff_t bi = 0; bi < n_blocks; bi++) {
            const double x = partial[bi];
            if (op != OP_MAX_ABS)
                r += x;
            else if (r == r && (x != x || x > r))
                r = x;
        }
        *result = r;
    }
    return FL_OK;
}

int NAME(fl_sgd_step)(const fl_array_table *t, const fl_sgd_options *opt, int n_threads)
{
    if (!opt)
        return FL_ERR_ARGUMENT;
    return NAME(walk)(t, opt->momentum != 0.0 ? 3 : 2, OP_SGD, opt, 0.0, NULL, n_threads);
}

int NAME(fl_adagrad_step)(const fl_array_table *t, const fl_adagrad_options *opt,
                          int n_threads)
{
    if (!opt)
        return FL_ERR_ARGUMENT;
    return NAME(walk)(t, 3, OP_ADAGRAD, opt, 0.0, NULL, n_threads);
}

int NAME(fl_rmsprop_step)(const fl_array_table *t, const fl_rmsprop_options *opt,
                          int n_threads)
{
    if (!opt)
        return FL_ERR_ARGUMENT;
    const int n_columns = 3 + (opt->momentum > 0.0) + (opt->centered != 0);
    return NAME(walk)(t, n_columns, OP_RMSPROP, opt, 0.0, NULL, n_threads);
}

int NAME(fl_adam_step)(const fl_array_table *t, const fl_adam_options *opt, int n_threads)
{
    if (!opt)
        return FL_ERR_ARGUMENT;
    return NAME(walk)(t, opt->amsgrad ? 5 : 4, OP_ADAM, opt, 0.0, NULL, n_threads);
}

int NAME(fl_grad_norm)(const fl_array_table *t, double norm_type, double *result,
                       int n_threads)
{
    if (!result || !(norm_type > 0.0))
        return FL_ERR_ARGUMENT;
    const int op = norm_type == 2.0 ? OP_SUM_SQ : norm_type == 1.0 ? OP_SUM_ABS
                   : isinf(norm_type) ? OP_MAX_ABS : OP_SUM_POW;
    return NAME(walk)(t, 1, op, NULL, norm_type, result, n_threads);
}

int NAME(fl_grads_finite)(const fl_array_table *t, int *all_finite, int n_threads)
{
    double sum = 0.0;
    if (!all_finite)
        return FL_ERR_ARGUMENT;
    const int status = NAME(walk)(t, 1, OP_NONFINITE, NULL, 0.0, &sum, n_threads);
    *all_finite = sum == 0.0;
    return status;
}

int NAME(fl_grad_scale)(const fl_array_table *t, double factor, int n_threads)
{
    return NAME(walk)(t, 1, OP_SCALE, NULL, factor, NULL, n_threads);
}

int NAME(fl_grad_clamp)(const fl_array_table *t, double clip_value, int n_threads)
{
    return NAME(walk)(t, 1, OP_CLAMP, NULL, clip_value, NULL, n_threads);
}

#undef NAME
#undef FL_CAT
#undef FL_CAT_
